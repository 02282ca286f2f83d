/**
 * Jupyter notebooks (nbformat 4) are scanned as notebooks, not as JSON text: in the raw file a
 * line `api_key = "sk-…"` is stored as `"api_key = \"sk-…\""`, which defeats regexes that expect
 * a quote before the secret. JSON.parse un-escapes every string, so each cell's source and each
 * text output is scanned as the author saw it.
 *
 * Scanned: every cell's `source`; `stream` outputs; `error` tracebacks (ANSI stripped); in
 * `execute_result`/`display_data`, every `text/*` part (plain, html, markdown, latex),
 * `application/javascript`, and `application/json` rendered as `key: value` lines.
 * Skipped: `image/*` and any other binary MIME part (base64 pixels hold no secrets and cost time),
 * cell attachments, notebook and cell metadata.
 */
import { position, stripAnsi } from "./text.js";

/** One piece of notebook text and where it came from. */
export interface NotebookUnit {
  readonly cell: number;
  readonly cellType: string;
  readonly output?: number;
  readonly outputType?: string;
  readonly mime?: string;
  readonly text: string;
}

/** nbformat stores multi-line strings either as one string or as an array of lines (each ending in "\n"). */
function joined(v: unknown): string | undefined {
  if (typeof v === "string") return v;
  if (Array.isArray(v) && v.every((x) => typeof x === "string")) return v.join("");
  return undefined;
}

function jsonLines(value: unknown, prefix: string, out: string[]): void {
  if (value !== null && typeof value === "object") {
    for (const [k, v] of Object.entries(value)) jsonLines(v, prefix ? `${prefix}.${k}` : k, out);
  } else if (typeof value === "string") {
    for (const line of value.split("\n")) out.push(`${prefix}: ${line}`);
  }
}

function isTextMime(mime: string): boolean {
  return mime.startsWith("text/") || mime === "application/javascript";
}

/**
 * The text units of a notebook, or `undefined` if `raw` is not a notebook (not JSON, or no
 * `cells` array): the caller then scans it as plain text.
 */
export function notebookUnits(raw: string): NotebookUnit[] | undefined {
  let nb: unknown;
  try {
    nb = JSON.parse(raw);
  } catch {
    return undefined;
  }
  const cells = (nb as { cells?: unknown } | null)?.cells;
  if (!Array.isArray(cells)) return undefined;
  const units: NotebookUnit[] = [];
  cells.forEach((c: unknown, cell) => {
    if (c === null || typeof c !== "object") return;
    const { cell_type, source, outputs } = c as { cell_type?: unknown; source?: unknown; outputs?: unknown };
    const cellType = typeof cell_type === "string" ? cell_type : "unknown";
    const src = joined(source);
    if (src) units.push({ cell, cellType, text: src });
    if (!Array.isArray(outputs)) return;
    outputs.forEach((o: unknown, output) => {
      if (o === null || typeof o !== "object") return;
      const { output_type, text, data, traceback, ename, evalue } = o as Record<string, unknown>;
      const outputType = typeof output_type === "string" ? output_type : "unknown";
      const base = { cell, cellType, output, outputType };
      if (outputType === "stream") {
        const t = joined(text);
        if (t) units.push({ ...base, mime: "stream", text: stripAnsi(t) });
      } else if (outputType === "error") {
        const head = [ename, evalue].filter((x) => typeof x === "string").join(": ");
        const tb = Array.isArray(traceback) ? traceback.filter((x) => typeof x === "string").join("\n") : "";
        const t = [head, tb].filter(Boolean).join("\n");
        if (t) units.push({ ...base, mime: "error", text: stripAnsi(t) });
      } else if (data !== null && typeof data === "object") {
        for (const [mime, value] of Object.entries(data as Record<string, unknown>)) {
          if (mime === "application/json" || mime.endsWith("+json")) {
            const lines: string[] = [];
            jsonLines(value, "", lines);
            if (lines.length) units.push({ ...base, mime, text: lines.join("\n") });
          } else if (isTextMime(mime)) {
            const t = joined(value);
            if (t) units.push({ ...base, mime, text: stripAnsi(t) });
          } // image/* and other binary parts: skipped
        }
      }
    });
  });
  return units;
}

/**
 * Best-effort line and column in the raw notebook file of `lineText` (one line of a unit, at
 * `column` within it). Notebook writers put one source line per JSON string, so the escaped line
 * is searched for from `from` onwards (cells appear in file order), then from the start.
 */
export function rawPosition(
  raw: string,
  starts: readonly number[],
  from: number,
  lineText: string,
  column: number,
): { offset: number; line: number; column: number } | undefined {
  const needle = JSON.stringify(lineText).slice(1, -1);
  if (!needle) return undefined;
  let at = raw.indexOf(needle, from);
  if (at === -1) at = raw.indexOf(needle);
  if (at === -1) return undefined;
  const offset = at + JSON.stringify(lineText.slice(0, column - 1)).length - 2;
  return { offset: at, ...position(starts, offset) };
}
