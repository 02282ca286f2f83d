/**
 * Plaintext exposure: decrypt-to-file outputs still on disk under the mapped roots, and their
 * age against the map's `plaintextMaxAge`. What pipeseal can know: its own decrypt writes
 * `x` beside `x.pseal` by default and the audit log names every sealed file opened; an output
 * written elsewhere under another name is invisible here (see docs/posture.md, limits).
 */
import { finding } from "../finding.js";
import { inventoryOf, readHead, relToMap, walkDir } from "../inventory.js";
import { auditOf, defaultOutputOf, PLAINTEXT_OPERATIONS } from "../keys/read.js";
import { exists, mappedRoots, rootOf } from "../roots.js";
import type { Answers, CheckDefinition, CheckModule, Finding, StageId } from "../types.js";

export const DECRYPTED_OUTPUT: CheckDefinition = {
  id: "PLAINTEXT-DECRYPTED-OUTPUT",
  title: "Decrypted output left on disk",
  severity: "high",
  question: "plaintext",
  description:
    "Finds plaintext files pipeseal's decrypt wrote, under the mapped roots: `x` beside `x.pseal`, `*.dec` / `*.decrypted`, and the default output of every sealed file the audit log shows opened (`decrypt`, `range-read`, `unwrap`) that still exists unsealed. Older than `plaintextMaxAge` (default 24h): high; younger: info (listed, not failed). The age is the file's modification time.",
  fix: "Delete the output once the job is done (`shred -u` or an ephemeral volume), or decrypt to stdout / a tmpfs; shorten the job's lifetime to fit plaintextMaxAge.",
};

interface Candidate {
  readonly abs: string;
  readonly stage: StageId;
  readonly subject: string;
  readonly size: number;
  readonly mtimeMs: number;
  decryptedBy?: string;
  decryptedAt?: string;
}

export const plaintextChecks: CheckModule = {
  definitions: [DECRYPTED_OUTPUT],
  async run(ctx) {
    const inv = await inventoryOf(ctx);
    const roots = mappedRoots(ctx.map);
    const found = new Map<string, Candidate>();
    for (const f of inv.files)
      if (f.decryptedOutputName) found.set(f.abs, { abs: f.abs, stage: f.stage, subject: f.store.id, size: f.size, mtimeMs: f.mtimeMs });
    const buf = Buffer.alloc(4096);
    for (const root of roots) {
      if (root.kind !== "compute" || !exists(root.abs)) continue;
      walkDir(root.abs, "", new Set(), (abs, _rel, names, st) => {
        const name = abs.slice(abs.lastIndexOf("/") + 1);
        if (!(/\.(dec|decrypted)$/i.test(name) || names.has(name + ".pseal")) || found.has(abs)) return;
        if (readHead(abs, buf).kind === "plaintext") found.set(abs, { abs, stage: root.stage, subject: root.subject, size: st.size, mtimeMs: st.mtimeMs });
      });
    }
    for (const r of (await auditOf(ctx)) ?? []) {
      if (!PLAINTEXT_OPERATIONS.has(r.operation) || r.outcome !== "ok") continue;
      const out = defaultOutputOf(r.objectPath);
      const root = out ? rootOf(roots, out) : null;
      if (!out || !root) continue;
      const known = found.get(out);
      if (known) {
        known.decryptedBy = r.principal;
        known.decryptedAt = r.time;
        continue;
      }
      const st = exists(out);
      if (st?.isFile && readHead(out, buf).kind === "plaintext")
        found.set(out, {
          abs: out,
          stage: root.stage,
          subject: root.subject,
          size: st.size,
          mtimeMs: st.mtimeMs,
          decryptedBy: r.principal,
          decryptedAt: r.time,
        });
    }
    const findings: Finding[] = [];
    const plaintext: Answers["plaintext"][number][] = [];
    const max = ctx.map.plaintextMaxAgeSeconds;
    for (const c of [...found.values()].sort((a, b) => (a.abs < b.abs ? -1 : 1))) {
      const rel = relToMap(ctx.map, c.abs);
      const age = Math.max(0, Math.round((ctx.now.getTime() - c.mtimeMs) / 1000));
      plaintext.push({ stage: c.stage, location: rel, kind: "decrypted-output", ageSeconds: age });
      findings.push(
        finding(DECRYPTED_OUTPUT, {
          stage: c.stage,
          subject: c.subject,
          location: rel,
          severity: age > max ? "high" : "info",
          message: `${rel}: decrypted output on disk for ${Math.round(age / 3600)} h (limit ${Math.round(max / 3600)} h)`,
          evidence: { ageSeconds: age, maxAgeSeconds: max, bytes: c.size, decryptedBy: c.decryptedBy ?? null, decryptedAt: c.decryptedAt ?? null },
        }),
      );
    }
    return { findings, examined: roots.map((r) => r.subject), facts: { plaintext } };
  },
};
