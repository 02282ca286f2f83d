/**
 * A rule's `when`. The schema has checked each condition's form; what is left needs two values
 * (an hour window of zero length, bounds in the wrong order) or a calendar (2025-02-30).
 */
import type { YamlPath } from "../../../io/yaml-schema.js";
import type { WhenFile } from "../schema.js";
import type { Conditions, Weekday } from "./types.js";
import { items, type PolicyDocument } from "./values.js";

export function readConditions(doc: PolicyDocument, path: YamlPath, when: WhenFile | undefined): Conditions {
  const out: { -readonly [K in keyof Conditions]: Conditions[K] } = {};
  if (when === undefined) return Object.freeze(out);
  if (when.env !== undefined) out.env = Object.freeze(items([], when.env).map((e) => e.value));
  if (when.context !== undefined) {
    // no prototype: a context key is the file's, and "__proto__" must stay a key like any other
    const ctx = Object.create(null) as Record<string, readonly string[]>;
    for (const [k, v] of Object.entries(when.context)) ctx[k] = Object.freeze((typeof v === "string" ? [v] : v).map(String));
    out.context = Object.freeze(ctx);
  }
  if (when.hours !== undefined) {
    const { from, to } = when.hours;
    if (from === to) doc.fail([...path, "hours"], "from and to must differ");
    out.hours = Object.freeze({ from, to });
  }
  if (when.days !== undefined) out.days = Object.freeze(items([], when.days).map((d) => d.value.toLowerCase() as Weekday));
  for (const k of ["notBefore", "notAfter"] as const) {
    const v = when[k];
    if (v === undefined) continue;
    const t = Date.parse(v);
    if (!Number.isFinite(t)) doc.fail([...path, k], "is not a date and time that exists");
    out[k] = t;
  }
  if (out.notBefore !== undefined && out.notAfter !== undefined && out.notBefore > out.notAfter) doc.fail(path, "notBefore is after notAfter");
  return Object.freeze(out);
}
