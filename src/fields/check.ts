/**
 * `fields check`: which fields in the data match no rule and look like personal data, by name
 * (email, phone, ssn, name, address, dob, …) or by sampled values (src/redact detectors).
 * Reports paths and reasons only, never values.
 */
import { createReadStream } from "node:fs";
import { detectAll } from "../redact/index.js";
import { type RecordFormat, type Rec, formatOf, readCsv, readJsonArray, readJsonl } from "./formats/index.js";
import { openParquet, readAll } from "./formats/parquet.js";
import { leafPaths } from "./path.js";
import type { FieldPolicy } from "./policy.js";

export interface CheckFinding {
  readonly field: string;
  /** e.g. ["name looks like email", "values: email (12 of 20 sampled)"] */
  readonly reasons: string[];
}
export interface CheckResult {
  readonly rowsSampled: number;
  readonly fieldsSeen: number;
  readonly uncovered: string[];
  readonly findings: CheckFinding[];
}

const NAME_HINTS: Array<[RegExp, string]> = [
  [/e-?mail/i, "email"],
  [/phone|mobile|msisdn|\bfax\b/i, "phone"],
  [/ssn|social.?sec|national.?id|passport|tax.?id|\bnin\b/i, "government id"],
  [/(^|[^a-z])(first|last|full|given|sur|middle|user)?_?name($|[^a-z])/i, "name"],
  [/address|street|city|zip|postal|post.?code/i, "address"],
  [/dob|birth/i, "date of birth"],
  [/iban|account.?(no|num)|card|\bpan\b|cvv/i, "financial"],
  [/\bip(_?addr(ess)?)?$|ip_address/i, "ip address"],
  [/gender|ethnic|religion|health|diagnos/i, "special category"],
];

/** Samples up to `sample` rows (default 1,000) and up to 20 values per field. */
export async function checkFields(policy: FieldPolicy, input: string, options: { format?: RecordFormat; sample?: number } = {}): Promise<CheckResult> {
  const format = formatOf(input, options.format);
  const flat = format === "csv" || format === "parquet";
  const limit = options.sample ?? 1000;
  const values = new Map<string, string[]>();
  let rows = 0;
  const take = (rec: Rec) => {
    rows++;
    for (const { schemaPath, value } of leafPaths(rec, flat)) {
      const list = values.get(schemaPath) ?? [];
      if (!values.has(schemaPath)) values.set(schemaPath, list);
      if (list.length < 20 && (typeof value === "string" || typeof value === "number") && value !== "") list.push(String(value));
    }
  };
  if (format === "parquet") {
    const src = input === "-" ? await readAll(process.stdin) : input;
    for await (const { rows: group } of (await openParquet(src)).groups()) {
      for (const r of group) if (rows < limit) take(r);
      if (rows >= limit) break;
    }
  } else {
    const stream = input === "-" ? process.stdin : createReadStream(input);
    const items = format === "jsonl" ? readJsonl(stream) : format === "json" ? readJsonArray(stream) : readCsv(stream, true, () => undefined);
    for await (const item of items) {
      if (item.record) take(item.record);
      if (rows >= limit) break;
    }
    if ("destroy" in stream && stream !== process.stdin) (stream as { destroy(): void }).destroy();
  }
  const covered = (sp: string) =>
    policy.rules.some((r) => {
      const pattern = r.field.source.replace(/\[\d+\]/g, "[*]");
      return (
        pattern === sp ||
        r.field.flatGlob.test(sp) ||
        (r.field.hasWildcard &&
          new RegExp(
            "^" +
              pattern
                .split("*")
                .map((s) => s.replace(/[\\^$.|?+()[\]{}]/g, "\\$&"))
                .join("[^.]*") +
              "$",
          ).test(sp))
      );
    });
  const uncovered = [...values.keys()].filter((k) => !covered(k));
  const findings: CheckFinding[] = [];
  for (const field of uncovered) {
    const reasons: string[] = [];
    const leaf = field
      .split(".")
      .at(-1)!
      .replace(/\[\*\]/g, "");
    for (const [re, what] of NAME_HINTS) if (re.test(leaf)) reasons.push(`name looks like ${what}`);
    const sampled = values.get(field)!;
    const hits = new Map<string, number>();
    for (const v of sampled)
      for (const d of new Set(
        detectAll(v)
          .filter((f) => f.kind === "pii" || f.kind === "secret")
          .map((f) => f.detector),
      ))
        hits.set(d, (hits.get(d) ?? 0) + 1);
    for (const [d, n] of hits) reasons.push(`values: ${d} (${n} of ${sampled.length} sampled)`);
    if (reasons.length) findings.push({ field, reasons });
  }
  return { rowsSampled: rows, fieldsSeen: values.size, uncovered, findings };
}
