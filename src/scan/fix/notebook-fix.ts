/**
 * Fixing a Jupyter notebook: code cells are rewritten like Python files (the cell gets its own
 * `import os`), and the outputs of any cell whose outputs show a secret are cleared (with its
 * execution count), since they were produced with it. The result is serialized as Jupyter
 * does (same indent, keys in their original order), so it stays valid nbformat.
 */
import { detectAll } from "../../redact/detect.js";
import type { Detector } from "../../redact/types.js";
import { notebookUnits } from "../notebook.js";
import { type Moved, type Skipped, rewriteCode } from "./code.js";
import type { Naming } from "./naming.js";

interface Cell {
  cell_type?: string;
  source?: string | string[];
  outputs?: unknown[];
  execution_count?: number | null;
}

export interface NotebookRewritten {
  readonly text: string;
  readonly moved: Moved[];
  readonly skipped: (Skipped & { cell: number })[];
  readonly clearedCells: number[];
}

const joinSource = (s: string | string[] | undefined) => (Array.isArray(s) ? s.join("") : (s ?? ""));

/**
 * @param known values already moved elsewhere: an output showing one of them is cleared too.
 * @returns undefined when `raw` is not a notebook.
 */
export function rewriteNotebook(
  raw: string,
  detectors: readonly Detector[],
  minConfidence: number | undefined,
  naming: Naming,
  file: string,
  known: ReadonlySet<string>,
): NotebookRewritten | undefined {
  const units = notebookUnits(raw);
  let nb: { cells?: Cell[] };
  try {
    nb = JSON.parse(raw) as { cells?: Cell[] };
  } catch {
    return undefined;
  }
  if (units === undefined || !Array.isArray(nb.cells)) return undefined;
  const secretsIn = (text: string) => detectAll(text, detectors, minConfidence === undefined ? {} : { minConfidence }).filter((f) => f.kind === "secret");
  const moved: Moved[] = [];
  const skipped: (Skipped & { cell: number })[] = [];
  const clear = new Set<number>();
  nb.cells.forEach((cell, i) => {
    const source = joinSource(cell.source);
    const found = secretsIn(source);
    if (found.length === 0) return;
    if (cell.cell_type !== "code") {
      skipped.push(
        ...found.map((f) => ({ offset: f.start, detector: f.detector, reason: `secret in a ${cell.cell_type ?? "non-code"} cell; edit it by hand`, cell: i })),
      );
      return;
    }
    const r = rewriteCode(source, found, "python", naming, file);
    moved.push(...r.moved);
    skipped.push(...r.skipped.map((s) => ({ ...s, cell: i })));
    if (r.moved.length > 0) {
      cell.source = Array.isArray(cell.source) ? r.text.split(/(?<=\n)/) : r.text;
      clear.add(i); // its outputs were computed with the secret in the source
    }
  });
  const values = [...known, ...moved.map((m) => m.value)];
  for (const u of units) if (u.output !== undefined && secretsIn(u.text).length > 0) clear.add(u.cell);
  nb.cells.forEach((cell, i) => {
    const shown = JSON.stringify(cell.outputs ?? []);
    if (values.some((v) => shown.includes(v) || shown.includes(JSON.stringify(v).slice(1, -1)))) clear.add(i);
  });
  for (const i of clear) {
    const cell = nb.cells[i];
    if (cell.cell_type !== "code") continue;
    cell.outputs = [];
    if ("execution_count" in cell) cell.execution_count = null;
  }
  const indent = /^\{\r?\n( +)"/.exec(raw)?.[1]?.length ?? 1;
  const text = JSON.stringify(nb, null, indent) + (raw.endsWith("\n") ? "\n" : "");
  return { text, moved, skipped, clearedCells: [...clear].sort((a, b) => a - b) };
}
