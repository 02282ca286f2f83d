import { mkdtempSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { Ajv } from "ajv";
import addFormats from "ajv-formats";
import type { Detector, Finding } from "../../src/redact/types.js";

/** A temp folder with the given files (relative path → content). */
export function tree(files: Record<string, string | Uint8Array>): string {
  const root = mkdtempSync(path.join(tmpdir(), "pipeseal-scan-"));
  for (const [rel, content] of Object.entries(files)) {
    const abs = path.join(root, rel);
    mkdirSync(path.dirname(abs), { recursive: true });
    writeFileSync(abs, content);
  }
  return root;
}

function regexDetector(id: string, kind: "pii" | "secret", label: string, re: RegExp, group = 0): Detector {
  return {
    id,
    kind,
    label,
    find(text: string): Finding[] {
      const out: Finding[] = [];
      for (const m of text.matchAll(new RegExp(re.source, re.flags.includes("d") ? re.flags : re.flags + "d"))) {
        const [start, end] = m.indices![group]!;
        out.push({ detector: id, kind, label, start, end, confidence: 0.9, explanation: `${id} test detector` });
      }
      return out;
    },
  };
}

/**
 * Two tiny detectors standing in for the real set in library tests: an `api_key = "…"`
 * assignment (needs the quote before the value, like the regex scanners people use) and e-mail.
 */
export const TEST_DETECTORS: Detector[] = [
  regexDetector("test-api-key", "secret", "API_KEY", /api_key\s*=\s*["'](sk-[A-Za-z0-9]{20,})["']/g, 1),
  regexDetector("test-email", "pii", "EMAIL", /[a-z0-9.]+@[a-z0-9.]+\.[a-z]{2,}/g),
];

export const SECRET = "sk-Qm9yZ2V0IGl0IGFsbCB0aGlzIGlzIGZha2U";
export const SECRET2 = "sk-T3RoZXIgZmFrZSBrZXkgZm9yIHRlc3Rpbmc";

/** An nbformat 4 notebook, pretty-printed as Jupyter writes it (indent 1, sources as line arrays). */
export function notebook(cells: unknown[]): string {
  return JSON.stringify({ cells, metadata: {}, nbformat: 4, nbformat_minor: 5 }, null, 1) + "\n";
}

export function lines(text: string): string[] {
  return text.split(/(?<=\n)/);
}

/** The OASIS SARIF 2.1.0 schema (draft-04; see test/vectors/sarif/SOURCE.md for why dropping `id`/`$schema` is enough for Ajv 8). */
export function sarifValidator() {
  const schema = JSON.parse(readFileSync(new URL("../vectors/sarif/sarif-schema-2.1.0.json", import.meta.url), "utf8"));
  delete schema.$schema;
  delete schema.id;
  // unicodeRegExp off: the schema's `language` pattern has a stray `]` that only the u flag rejects
  const ajv = new Ajv({ strict: false, allErrors: true, unicodeRegExp: false });
  (addFormats as unknown as (a: Ajv) => void)(ajv);
  return ajv.compile(schema);
}
