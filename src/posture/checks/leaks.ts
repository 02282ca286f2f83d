/**
 * Leaks: secrets and personal data in logs, notebooks and CI output under the compute paths
 * and log stores (the scanner, src/scan), and byte-identical copies of known sensitive plaintext
 * elsewhere under the mapped roots. Sealed files are binary and skipped by the scanner, so
 * encrypted log segments are never "scanned"; findings carry masked hints only.
 */
import { createHash } from "node:crypto";
import { readFileSync } from "node:fs";
import { scanPaths } from "../../scan/index.js";
import { defineCheck, finding } from "../finding.js";
import { inventoryOf, readHead, relToMap, walkDir } from "../inventory.js";
import { exists, mappedRoots } from "../roots.js";
import type { Answers, CheckModule, Finding, StageId } from "../types.js";

export const LEAK = {
  secret: defineCheck({
    id: "LEAK-SECRET",
    title: "Secret in logs, notebooks or CI output",
    severity: "high",
    question: "plaintext",
    description:
      "The scanner (pipeseal scan's detectors, notebooks parsed as notebooks, ANSI stripped) found a credential or key in a file under a compute path or a log store. Findings show a masked hint, never the value; the fingerprint includes the scanner's keyed fingerprint so two secrets in one file stay two findings.",
    fix: "Revoke and rotate the secret, remove it from the file (and from notebook outputs: clear outputs before saving), and log through `pipeseal redact` or the pino redactor.",
  }),
  pii: defineCheck({
    id: "LEAK-PII",
    title: "Personal data in logs, notebooks or CI output",
    severity: "medium",
    question: "plaintext",
    description: "The scanner found personal data (email, phone, card, national id…) in a file under a compute path or a log store.",
    fix: "Remove or redact it (`pipeseal redact`), and keep personal data out of logs and notebook outputs.",
  }),
  copy: defineCheck({
    id: "LEAK-COPY",
    title: "Unencrypted copy of sensitive plaintext",
    severity: "high",
    question: "plaintext",
    description:
      "A plaintext file under the mapped roots has the same SHA-256 as known sensitive plaintext: a plaintext file in a store declared encrypted, or a decrypt output. Sealed headers carry no plaintext hash, so a copy of data that exists only sealed cannot be recognised; only copies of plaintext posture can see are.",
    fix: "Delete the copy; if a job needs the data, have it decrypt on demand (stream) instead of keeping a file.",
  }),
};

const MAX_HASH_BYTES = 256 * 1024 * 1024;

export const leakChecks: CheckModule = {
  definitions: Object.values(LEAK),
  async run(ctx) {
    const findings: Finding[] = [];
    const perFile = new Map<string, { stage: StageId; inLogStore: boolean; secrets: number; pii: number }>();
    const scanned = new Set<string>();
    for (const stage of ctx.map.stages) {
      const targets = [
        ...stage.compute.filter((c) => c.path).map((c) => ({ id: c.id, path: c.path!, logs: false })),
        ...stage.stores.filter((s) => s.kind === "logs" && s.path).map((s) => ({ id: s.id, path: s.path!, logs: true })),
      ];
      for (const t of targets) {
        if (!exists(t.path)) continue;
        scanned.add(t.id);
        for await (const f of scanPaths([t.path], { root: ctx.map.baseDir, gitignore: false })) {
          const d = f.kind === "secret" ? LEAK.secret : LEAK.pii;
          const row = perFile.get(f.path) ?? { stage: stage.id, inLogStore: t.logs, secrets: 0, pii: 0 };
          if (f.kind === "secret") row.secrets++;
          else row.pii++;
          perFile.set(f.path, row);
          findings.push(
            finding(d, {
              stage: stage.id,
              subject: t.id,
              location: f.path,
              discriminator: f.fingerprint,
              message: `${f.path}:${f.line}: ${f.label} (${f.detector}) ${f.hint}`,
              evidence: {
                line: f.line,
                column: f.column,
                detector: f.detector,
                hint: f.hint,
                confidence: f.confidence,
                ...(f.notebook ? { cell: f.notebook.cell } : {}),
              },
            }),
          );
        }
      }
    }
    findings.push(...(await copies(ctx)));
    // one row per file, however many findings it holds, worded by what the file is
    const plaintext: Answers["plaintext"][number][] = [...perFile].map(([location, r]) => ({
      stage: r.stage,
      location,
      kind: "leak",
      ageSeconds: null,
      detail: leakDetail(location, r),
    }));
    return { findings, examined: [...scanned], facts: { plaintext } };
  },
};

/** "2 secrets and 1 personal-data value in a notebook (cells or outputs)". */
function leakDetail(location: string, r: { inLogStore: boolean; secrets: number; pii: number }): string {
  const what = [r.secrets ? `${r.secrets} secret${r.secrets === 1 ? "" : "s"}` : "", r.pii ? `${r.pii} personal-data value${r.pii === 1 ? "" : "s"}` : ""]
    .filter(Boolean)
    .join(" and ");
  return `${what} in ${whereFound(location, r.inLogStore)}`;
}

function whereFound(location: string, inLogStore: boolean): string {
  const name = location.toLowerCase();
  if (name.endsWith(".ipynb")) return "a notebook (cells or outputs)";
  if (inLogStore || /\.log(\.\d+)?$/.test(name) || name.endsWith(".jsonl")) return "a log file";
  if (/(^|\/)(ci|\.github|\.gitlab|build|jobs?)\//.test(name) || /\b(ci|build|job)[-_.]?(output|log)/.test(name)) return "CI or job output";
  if (/\.(py|ts|js|mjs|sh|r|scala|java|go|rb|sql)$/.test(name)) return "a source file";
  if (/\.(ya?ml|json|toml|ini|cfg|conf|env)$/.test(name) || name.endsWith("/.env")) return "a configuration file";
  return "a file";
}

interface Plain {
  readonly abs: string;
  readonly stage: StageId;
  readonly subject: string;
  readonly size: number;
  readonly original: boolean;
}

async function copies(ctx: Parameters<CheckModule["run"]>[0]): Promise<Finding[]> {
  const inv = await inventoryOf(ctx);
  const files: Plain[] = inv.files
    .filter((f) => f.kind === "plaintext")
    .map((f) => ({ abs: f.abs, stage: f.stage, subject: f.store.id, size: f.size, original: !!f.store.key || f.decryptedOutputName }));
  const seen = new Set(files.map((f) => f.abs));
  const buf = Buffer.alloc(4096);
  for (const root of mappedRoots(ctx.map)) {
    if (root.kind !== "compute" || !exists(root.abs)) continue;
    walkDir(root.abs, "", new Set(), (abs, _rel, names, st) => {
      if (seen.has(abs) || readHead(abs, buf).kind !== "plaintext") return;
      seen.add(abs);
      const name = abs.slice(abs.lastIndexOf("/") + 1);
      files.push({ abs, stage: root.stage, subject: root.subject, size: st.size, original: /\.(dec|decrypted)$/i.test(name) || names.has(name + ".pseal") });
    });
  }
  const originalSizes = new Set(files.filter((f) => f.original && f.size > 0 && f.size <= MAX_HASH_BYTES).map((f) => f.size));
  const hashes = new Map<string, Plain[]>();
  for (const f of files) {
    if (!originalSizes.has(f.size)) continue; // only a same-size file can be a copy: most files are never read
    const h = createHash("sha256").update(readFileSync(f.abs)).digest("hex");
    hashes.set(h, [...(hashes.get(h) ?? []), f]);
  }
  const out: Finding[] = [];
  for (const group of hashes.values()) {
    const original = group.find((f) => f.original);
    if (!original) continue;
    for (const c of group.filter((f) => !f.original)) {
      const rel = relToMap(ctx.map, c.abs);
      out.push(
        finding(LEAK.copy, {
          stage: c.stage,
          subject: c.subject,
          location: rel,
          message: `${rel} is a byte-identical plaintext copy of ${relToMap(ctx.map, original.abs)}`,
          evidence: { copyOf: relToMap(ctx.map, original.abs), bytes: c.size },
        }),
      );
    }
  }
  return out;
}
