/**
 * Charts as inline SVG rendered on the server: no charting library, no client code, nothing
 * for the CSP to allow (colours come from classes in the site's stylesheet, never a style
 * attribute). Each chart carries a text summary for screen readers (role="img" + <title>).
 */
import { type Raw, html, num, raw } from "./html.js";

/** Series colours, as presentation attributes too: a chart served as an image (the audit timeline) gets no stylesheet. */
const PALETTE = ["#0969da", "#bf8700", "#1a7f37", "#8250df", "#cf222e", "#57606a"];
const AXIS = `font-size="10" font-family="system-ui, sans-serif" fill="#57606a"`;
const W = 720;
const H = 160;
const PAD = { left: 48, right: 8, top: 8, bottom: 22 };

export interface Bar {
  /** Bucket label (an ISO prefix such as "2026-03-01T09"). */
  readonly label: string;
  readonly count: number;
}

/** Rounded-up axis maximum: 1, 2, 5 × 10^n. */
function niceMax(n: number): number {
  if (n <= 1) return 1;
  const p = 10 ** Math.floor(Math.log10(n));
  return ([1, 2, 5, 10].find((m) => m * p >= n) ?? 10) * p;
}

function frame(title: string, max: number, labels: readonly string[], body: string): Raw {
  const plotH = H - PAD.top - PAD.bottom;
  const ticks = [0, max / 2, max].map((v) => {
    const y = PAD.top + plotH - (v / max) * plotH;
    return `<line class="grid" stroke="#eaeef2" x1="${PAD.left}" x2="${W - PAD.right}" y1="${y}" y2="${y}"/><text class="axis" ${AXIS} x="${PAD.left - 4}" y="${y + 4}" text-anchor="end">${num(Math.round(v))}</text>`;
  });
  const first = labels[0] ?? "";
  const last = labels[labels.length - 1] ?? "";
  return html`<svg class="chart" viewBox="0 0 ${W} ${H}" role="img" aria-label="${title}" xmlns="http://www.w3.org/2000/svg"><title>${title}</title>${raw(ticks.join(""))}${raw(body)}<text class="axis" ${raw(AXIS)} x="${PAD.left}" y="${H - 6}">${first}</text><text class="axis" ${raw(AXIS)} x="${W - PAD.right}" y="${H - 6}" text-anchor="end">${last === first ? "" : last}</text></svg>`;
}

/** A bar per bucket; `title` summarises it in words. */
export function barChart(bars: readonly Bar[], title: string): Raw {
  const max = niceMax(Math.max(0, ...bars.map((b) => b.count)));
  const plotW = W - PAD.left - PAD.right;
  const plotH = H - PAD.top - PAD.bottom;
  const step = plotW / Math.max(1, bars.length);
  const body = bars
    .map((b, i) => {
      const h = (b.count / max) * plotH;
      const x = PAD.left + i * step + step * 0.1;
      return `<rect class="bar" fill="${PALETTE[0]}" x="${x.toFixed(1)}" y="${(PAD.top + plotH - h).toFixed(1)}" width="${Math.max(1, step * 0.8).toFixed(1)}" height="${h.toFixed(1)}"><title>${escText(b.label)}: ${num(b.count)}</title></rect>`;
    })
    .join("");
  return frame(
    title,
    max,
    bars.map((b) => b.label),
    body,
  );
}

/** Stacked bars: per bucket, one segment per series (e.g. key versions), series in a fixed colour order. */
export function stackedChart(labels: readonly string[], series: readonly { name: string; counts: readonly number[] }[], title: string): Raw {
  const totals = labels.map((_, i) => series.reduce((n, s) => n + (s.counts[i] ?? 0), 0));
  const max = niceMax(Math.max(0, ...totals));
  const plotW = W - PAD.left - PAD.right;
  const plotH = H - PAD.top - PAD.bottom;
  const step = plotW / Math.max(1, labels.length);
  const parts: string[] = [];
  labels.forEach((label, i) => {
    let y = PAD.top + plotH;
    series.forEach((s, k) => {
      const c = s.counts[i] ?? 0;
      if (c === 0) return;
      const h = (c / max) * plotH;
      y -= h;
      parts.push(
        `<rect class="bar s${k % 6}" fill="${PALETTE[k % 6]}" x="${(PAD.left + i * step + step * 0.1).toFixed(1)}" y="${y.toFixed(1)}" width="${Math.max(1, step * 0.8).toFixed(1)}" height="${h.toFixed(1)}"><title>${escText(label)} ${escText(s.name)}: ${num(c)}</title></rect>`,
      );
    });
  });
  return frame(title, max, labels, parts.join(""));
}

/** The legend for a stacked chart, colour classes matching its series. */
export function legend(names: readonly string[]): Raw {
  return html`<ul class="legend">${names.map((n, k) => html`<li><span class="swatch s${k % 6}" aria-hidden="true"></span>${n}</li>`)}</ul>`;
}

function escText(s: string): string {
  return s.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}
