/**
 * The pipeline as an inline SVG: the eight stages left to right in STAGES order, each a box
 * coloured and labelled by status (never colour alone), each connection an arrow coloured and
 * labelled by its status. Forward connections arc above the boxes, backward ones below.
 */
import type { PostureReport, StageId, Status } from "../../types.js";
import { STAGES } from "../../types.js";
import { esc, plural, stageTitle } from "./text.js";

type Shown = Status | "unmapped";

const BOX_W = 124;
const BOX_H = 84;
const GAP = 28;
const LEFT = 12;
const MARGIN = 24;
const WIDTH = LEFT * 2 + STAGES.length * BOX_W + (STAGES.length - 1) * GAP;

export const STATUS_WORD: Readonly<Record<Shown, string>> = { pass: "✓ PASS", warn: "! WARN", fail: "✗ FAIL", unmapped: "– not mapped" };

/** Statuses go into class names and marker ids: anything unexpected (a hand-edited JSON report) shows as a warning. */
const shown = (s: unknown): Status => (s === "pass" || s === "warn" || s === "fail" ? s : "warn");

const x = (i: number) => LEFT + i * (BOX_W + GAP);
const clip = (s: string, n: number) => (s.length > n ? `${s.slice(0, n - 1)}…` : s);

/** Box titles that would not fit at 13 px (the full title is in the box's tooltip and label). */
const SHORT: Partial<Record<StageId, string>> = { features: "Features" };

/** How far an arrow's apex sits from the boxes: longer spans and repeated pairs arc further out; neighbours alternate so labels do not collide. */
const lift = (span: number, nth: number, from: number) => 30 + 20 * span + 18 * nth + (from % 2) * 16;

function stageBox(report: PostureReport, id: StageId, i: number, top: number): string {
  const s = report.stages.find((st) => st.id === id);
  const status = stageStatus(report, id);
  const detail = s ? `${plural(s.findings, "finding")} · ${plural(s.stores, "store")}` : "";
  const label = `${stageTitle(id)}: ${STATUS_WORD[status]}${detail ? `, ${detail}` : ""}`;
  return (
    `<a href="#stage-${id}" class="stage st-${status}" data-stage="${id}" data-status="${status}">` + // named by its <title>: an aria-label would hide the box's visible words from speech input
    `<title>${esc(label)}</title>` +
    `<rect x="${x(i)}" y="${top}" width="${BOX_W}" height="${BOX_H}" rx="8"/>` +
    `<text x="${x(i) + BOX_W / 2}" y="${top + 24}" class="name">${esc(SHORT[id] ?? stageTitle(id))}</text>` +
    `<text x="${x(i) + BOX_W / 2}" y="${top + 48}" class="status">${esc(STATUS_WORD[status])}</text>` +
    `<text x="${x(i) + BOX_W / 2}" y="${top + 68}" class="detail">${esc(detail)}</text></a>`
  );
}

interface Arrow {
  readonly c: PostureReport["connections"][number];
  readonly from: number;
  readonly to: number;
  readonly forward: boolean;
  readonly lift: number;
}

function connectionArrow({ c, from, to, forward, lift }: Arrow, top: number): string {
  const y = forward ? top : top + BOX_H;
  const dir = forward ? -1 : 1;
  const x1 = x(from) + BOX_W / 2 + (forward ? 14 : -14);
  const x2 = x(to) + BOX_W / 2 + (forward ? -14 : 14) + (from === to ? 40 : 0);
  const cx = (x1 + x2) / 2;
  const cy = y + dir * lift * 2; // the curve's apex is half way to its control point
  const status = shown(c.status);
  const label = `${clip(c.id, 26)} · ${STATUS_WORD[status]}`;
  const ly = y + dir * lift + (forward ? -5 : 14);
  return (
    `<g class="conn cs-${status}" data-connection="${esc(c.id)}" data-status="${status}">` +
    `<title>${esc(`${c.id}: ${c.from} → ${c.to}, ${c.url} — ${STATUS_WORD[status]}`)}</title>` +
    `<path d="M${x1},${y} Q${cx},${cy} ${x2},${y}" marker-end="url(#ah-${status})"/>` +
    `<text x="${cx}" y="${ly}">${esc(label)}</text></g>`
  );
}

function markers(): string {
  return (["pass", "warn", "fail"] as const)
    .map(
      (s) =>
        `<marker id="ah-${s}" class="cs-${s}" viewBox="0 0 10 10" refX="9" refY="5" markerWidth="7" markerHeight="7" orient="auto-start-reverse"><path d="M0,0 L10,5 L0,10 z"/></marker>`,
    )
    .join("");
}

export function stageStatus(report: PostureReport, id: StageId): Shown {
  const s = report.stages.find((st) => st.id === id);
  return s ? shown(s.status) : "unmapped";
}

/** The diagram; `role="img"` with a text description listing every stage's status. */
export function renderDiagram(report: PostureReport): string {
  const pairCount = new Map<string, number>();
  const arrows: Arrow[] = [];
  for (const c of report.connections) {
    const from = STAGES.indexOf(c.from);
    const to = STAGES.indexOf(c.to);
    if (from < 0 || to < 0) continue;
    const key = `${from}>${to}`;
    const nth = pairCount.get(key) ?? 0;
    pairCount.set(key, nth + 1);
    arrows.push({ c, from, to, forward: to >= from, lift: lift(Math.abs(to - from), nth, from) });
  }
  // room above for the forward arcs and their labels, below for the backward ones
  const above = Math.max(0, ...arrows.filter((a) => a.forward).map((a) => a.lift)) + MARGIN;
  const below = Math.max(0, ...arrows.filter((a) => !a.forward).map((a) => a.lift + 16)) + MARGIN;
  const top = Math.max(above, MARGIN);
  const height = top + BOX_H + below;
  const desc = STAGES.map((id) => `${stageTitle(id)} ${STATUS_WORD[stageStatus(report, id)]}`).join("; ");
  return (
    `<svg id="diagram" xmlns="http://www.w3.org/2000/svg" viewBox="0 0 ${WIDTH} ${height}" role="group" aria-labelledby="diagram-title" aria-describedby="diagram-desc">` + // a group, not an img: its stage boxes are links
    `<title id="diagram-title">Pipeline stages and connections by status</title><desc id="diagram-desc">${esc(desc)}</desc>` +
    `<defs>${markers()}</defs>` +
    STAGES.map((id, i) => stageBox(report, id, i, top)).join("") +
    arrows.map((a) => connectionArrow(a, top)).join("") +
    `</svg>`
  );
}
