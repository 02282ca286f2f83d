/**
 * GET /v1/audit/export over real mTLS: the lines parse and say exactly what `audit list`
 * says; only an auditor may export (workloads and key admins are refused, and the refusal is
 * recorded); the export is itself audited; a stream cut short is an error, never a short
 * export, and `audit export -o` then leaves no file.
 */
import { randomBytes } from "node:crypto";
import { existsSync } from "node:fs";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { AUDIT_EXPORT_SCHEMA, type AuditExportRecord } from "../../src/audit/export.js";
import type { AuditRecord } from "../../src/audit/types.js";
import { RemoteKeyring } from "../../src/client/index.js";
import { decide, parsePolicy } from "../../src/server/policy/index.js";
import { type Harness, POLICY_EXPORT, runCli, startHarness, TD, WHO } from "./api-harness.js";

let h: Harness;
beforeAll(async () => {
  h = await startHarness({ policy: POLICY_EXPORT });
  // something worth exporting: an unwrap, a denied unwrap, a rotation
  const trainer = h.keyring("trainer");
  const e = await trainer.wrap("prod/datasets/raw", randomBytes(32), { dataset: "raw" });
  await trainer.unwrap(e, { dataset: "raw" }, { operation: "decrypt", path: "a.pseal" });
  await h
    .keyring("admin")
    .unwrap(e, { dataset: "raw" }, { operation: "decrypt" })
    .catch(() => undefined);
  await h.keyring("admin").rotateKey("prod/datasets/raw");
});
afterAll(async () => h?.close());

async function exportAll(kr: RemoteKeyring, options: { sinceMs?: number; afterSeq?: number } = {}): Promise<AuditExportRecord[]> {
  const out: AuditExportRecord[] = [];
  for await (const line of kr.exportAudit(options)) {
    expect(line.endsWith("\n") && !line.slice(0, -1).includes("\n")).toBe(true);
    out.push(JSON.parse(line) as AuditExportRecord);
  }
  return out;
}

/** What the export promises for one stored record: the same facts, the rule lifted out of the context. */
function expected(r: AuditRecord): AuditExportRecord {
  const ctx = r.context === null ? null : (JSON.parse(r.context) as Record<string, string>);
  const { "@rule": rule = null, ...rest } = ctx ?? {};
  const context = ctx === null || Object.keys(rest).length === 0 ? null : rest;
  // written independently of src/audit/export.ts on purpose: a reference, field by field
  return {
    schema: AUDIT_EXPORT_SCHEMA,
    seq: r.seq,
    time: r.time,
    principal: r.principal,
    operation: r.operation,
    key: r.keyName,
    version: r.keyVersion,
    outcome: r.outcome,
    errorCode: r.errorCode,
    rule,
    object: r.objectPath,
    headerHash: r.headerHash,
    context,
    chainHash: r.mac,
  };
}

describe("audit export (API)", () => {
  it("exports every record, oldest first, exactly as audit list shows it; the export is the last record", async () => {
    const auditor = h.keyring("auditor");
    const lines = await exportAll(auditor);
    const listed = (await auditor.listAudit({ limit: 100_000 })).filter((r) => r.seq <= lines.at(-1)!.seq);
    expect(lines).toEqual(listed.map(expected));
    expect(lines.map((l) => l.seq)).toEqual(lines.map((_, i) => i + 1));
    // the export is one record, its own, carrying the rule that allowed it
    expect(lines.at(-1)).toMatchObject({ operation: "audit.export", principal: WHO.auditor, outcome: "ok", rule: "audit" });
    // every allowed operation is one record with its rule; authz.* records only where no operation followed
    expect(lines.filter((l) => l.operation.startsWith("authz.") && l.outcome === "ok")).toEqual([]);
    expect(lines).toContainEqual(expect.objectContaining({ operation: "decrypt", principal: WHO.trainer, outcome: "ok", rule: "train" }));
    // the facts a SIEM looks for are fields, not text to parse
    expect(lines).toContainEqual(
      expect.objectContaining({
        operation: "decrypt",
        principal: WHO.trainer,
        key: "prod/datasets/raw",
        version: 1,
        object: "a.pseal",
        context: { dataset: "raw" },
      }),
    );
    expect(lines).toContainEqual(
      expect.objectContaining({
        operation: "authz.unwrap",
        principal: WHO.admin,
        outcome: "denied",
        errorCode: "ACCESS_DENIED",
        rule: "builtin:admin-no-plaintext",
      }),
    );
    expect(lines).toContainEqual(expect.objectContaining({ operation: "key.rotate", principal: WHO.admin, key: "prod/datasets/raw", version: 2 }));
    expect(lines.every((l) => /^[0-9a-f]{64}$/.test(l.chainHash))).toBe(true);
    expect((await auditor.verifyAudit()).ok).toBe(true);
  });

  it("--since keeps only records at or after the time, as audit list does", async () => {
    const auditor = h.keyring("auditor");
    const all = await exportAll(auditor);
    const cut = Date.parse(all[Math.floor(all.length / 2)]!.time);
    const since = await exportAll(auditor, { sinceMs: cut });
    expect(since.length).toBeGreaterThan(1);
    expect(since.every((l) => Date.parse(l.time) >= cut)).toBe(true);
    const listed = (await auditor.listAudit({ sinceMs: cut })).filter((r) => r.seq <= since.at(-1)!.seq);
    expect(since).toEqual(listed.map(expected));
    expect(since.at(-1)!.context).toEqual({ since: new Date(cut).toISOString() });
  });

  it("afterSeq resumes after the last seq a SIEM stored: exactly the newer records, and the export records the cursor", async () => {
    const auditor = h.keyring("auditor");
    const all = await exportAll(auditor);
    const cursor = all[all.length - 3]!.seq;
    const resumed = await exportAll(auditor, { afterSeq: cursor });
    expect(resumed.slice(0, 2)).toEqual(all.slice(-2)); // the two after the cursor, unchanged
    expect(resumed.every((l) => l.seq > cursor)).toBe(true);
    expect(resumed.at(-1)).toMatchObject({ operation: "audit.export", rule: "audit", context: { afterSeq: String(cursor) } });
    const bad = await h
      .keyring("auditor")
      .client.call("GET", "/v1/audit/export?afterSeq=-1")
      .catch((e: unknown) => e);
    expect(bad).toMatchObject({ status: 400 });
  });

  it("only an auditor may export: workloads, key and policy admins and strangers get ACCESS_DENIED, and each refusal is recorded", async () => {
    for (const who of ["trainer", "admin", "pa1", "stranger"] as const) {
      await expect(exportAll(h.keyring(who))).rejects.toMatchObject({ code: "ACCESS_DENIED", status: 403 });
    }
    const refused = (await exportAll(h.keyring("auditor"))).filter((l) => l.operation === "authz.audit.export" && l.outcome === "denied");
    expect(refused.map((l) => l.principal)).toEqual(expect.arrayContaining([WHO.trainer, WHO.admin, WHO.pa1, WHO.stranger]));
    expect(refused.every((l) => l.errorCode === "ACCESS_DENIED" && l.rule === "builtin:default-deny")).toBe(true);
  });

  it("no policy can hand audit.export to a workload or a key admin (the built-in role is the ceiling)", () => {
    const generous = parsePolicy(
      `${POLICY_EXPORT}  - { id: leak, group: workloads, operations: [audit.export, audit.read] }\n  - { id: leak2, group: key-admins, operations: [audit.export] }\n`,
    );
    const now = new Date();
    expect(decide(generous, { principal: WHO.trainer, operation: "audit.export", now })).toMatchObject({ allowed: false });
    expect(decide(generous, { principal: WHO.admin, operation: "audit.export", now })).toMatchObject({ allowed: false });
    expect(decide(generous, { principal: WHO.auditor, operation: "audit.export", now })).toMatchObject({ allowed: true, rule: "audit" });
  });

  it("a bearer token narrowed to audit.read cannot export; another CA's certificate gets no byte", async () => {
    const auditor = h.keyring("auditor");
    const { token } = await auditor.mintToken({ operations: ["audit.read"] });
    const narrowed = h.keyring("auditor", { token });
    expect((await narrowed.listAudit({ limit: 1 })).length).toBe(1);
    await expect(exportAll(narrowed)).rejects.toMatchObject({ code: "ACCESS_DENIED", message: expect.stringMatching(/builtin:token-scope/) });
    const foreign = new RemoteKeyring({ url: h.svc.url, certDir: h.certs.foreign, expect: [`${TD}/*/*`], retry: { attempts: 1 } });
    await expect(exportAll(foreign)).rejects.toMatchObject({ code: expect.stringMatching(/CERT_REJECTED|TLS_CONNECT_FAILED/) });
    await foreign.close();
  });

  it("a stream cut short by the store is an error for the client, and `audit export -o` leaves no file", async () => {
    const store = h.svc.store;
    const original = store.exportAudit.bind(store);
    store.exportAudit = async function* (o) {
      let n = 0;
      for await (const line of original(o)) {
        if (++n > 3) throw new Error("connection to the database lost");
        yield line;
      }
    };
    try {
      const got: string[] = [];
      const err = await (async () => {
        for await (const line of h.keyring("auditor").exportAudit()) got.push(line);
      })().catch((e: unknown) => e);
      expect(err).toMatchObject({ code: "UNAVAILABLE", message: expect.stringMatching(/cut short/) });
      expect(got.length).toBeLessThanOrEqual(3);
      const out = path.join(h.dir, "cut.jsonl");
      const r = await runCli(["--server", h.svc.url, "--cert", h.certs.auditor, "audit", "export", "-o", out]);
      expect(r.status).not.toBe(0);
      expect(r.stderr).toMatch(/\[UNAVAILABLE\]/);
      expect(existsSync(out)).toBe(false);
    } finally {
      store.exportAudit = original;
    }
  });

  it("a store that is down before the first record gives a typed 503, not a broken stream", async () => {
    const store = h.svc.store;
    const original = store.exportAudit.bind(store);
    store.exportAudit = async function* () {
      yield* [];
      throw new Error("database is down");
    };
    try {
      await expect(exportAll(h.keyring("auditor", { retry: { attempts: 1 } }))).rejects.toMatchObject({ code: "UNAVAILABLE", status: 503 });
    } finally {
      store.exportAudit = original;
    }
  });
});
