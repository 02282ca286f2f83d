/** `posture explain <id>`: a check's definition, or the nearest ids for a typo. */
import { UsageError } from "../errors.js";
import { CHECK_MODULES } from "./checks/index.js";
import type { CheckDefinition, CheckModule } from "./types.js";

/** Every check definition of the given modules (default: all), in report order. */
export function checkDefinitions(modules: readonly CheckModule[] = CHECK_MODULES): CheckDefinition[] {
  return modules.flatMap((m) => m.definitions);
}

/** @throws UsageError(INVALID_ARGUMENT) naming the nearest ids when `id` is unknown. */
export function explainCheck(id: string, modules: readonly CheckModule[] = CHECK_MODULES): CheckDefinition {
  const all = checkDefinitions(modules);
  const wanted = id.trim().toUpperCase();
  const hit = all.find((d) => d.id === wanted);
  if (hit) return hit;
  const near = all
    .map((d) => ({ id: d.id, score: distance(wanted, d.id) - (d.id.includes(wanted) || wanted.includes(d.id.split("-")[0]) ? 3 : 0) }))
    .sort((a, b) => a.score - b.score)
    .slice(0, 4)
    .map((d) => d.id);
  throw new UsageError("INVALID_ARGUMENT", `no check "${id.slice(0, 60)}"; did you mean ${near.join(", ")}? (every id: pipeseal posture explain --list)`);
}

export function formatDefinition(d: CheckDefinition): string {
  return `${d.id}: ${d.title}\nseverity: ${d.severity}   answers: ${d.question}\n\n${d.description}\n\nfix: ${d.fix}\n`;
}

function distance(a: string, b: string): number {
  const row = Array.from({ length: b.length + 1 }, (_, i) => i);
  for (let i = 1; i <= a.length; i++) {
    let prev = row[0];
    row[0] = i;
    for (let j = 1; j <= b.length; j++) {
      const cur = row[j];
      row[j] = Math.min(row[j] + 1, row[j - 1] + 1, prev + (a[i - 1] === b[j - 1] ? 0 : 1));
      prev = cur;
    }
  }
  return row[b.length];
}
