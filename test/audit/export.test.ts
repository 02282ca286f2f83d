/**
 * `audit export` on the local keystore: the documented line schema, the same facts as
 * `audit list`, paging past one page, the export recorded in the chain it exports, and the
 * built CLI writing stdout or an atomic 0600 file.
 */
import { randomBytes } from "node:crypto";
import { readFileSync, statSync } from "node:fs";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { AUDIT_EXPORT_SCHEMA, auditExportLine, toAuditExportRecord } from "../../src/audit/export.js";
import { exportLocalAudit } from "../../src/audit/export-local.js";
import type { AuditRecord } from "../../src/audit/types.js";
import { cli } from "../cli/run-cli.js";
import { freshKeystore, tempDir } from "../helpers/keystore.js";

const record = (over: Partial<AuditRecord>): AuditRecord => ({
  seq: 7,
  time: "2025-01-02T03:04:05.678Z",
  principal: "p",
  operation: "unwrap",
  keyName: "k",
  keyVersion: 2,
  objectPath: "f.pseal",
  headerHash: null,
  context: null,
  outcome: "ok",
  errorCode: null,
  mac: "ab".repeat(32),
  ...over,
});

describe("export record schema", () => {
  it("lifts the decision rule out of the context and keeps the rest of the context as an object", () => {
    const r = toAuditExportRecord(
      record({ operation: "authz.unwrap", outcome: "denied", errorCode: "ACCESS_DENIED", context: '{"@rule":"builtin:admin-no-plaintext","dataset":"raw"}' }),
    );
    expect(r).toEqual({
      schema: AUDIT_EXPORT_SCHEMA,
      seq: 7,
      time: "2025-01-02T03:04:05.678Z",
      principal: "p",
      operation: "authz.unwrap",
      key: "k",
      version: 2,
      outcome: "denied",
      errorCode: "ACCESS_DENIED",
      rule: "builtin:admin-no-plaintext",
      object: "f.pseal",
      headerHash: null,
      context: { dataset: "raw" },
      chainHash: "ab".repeat(32),
    });
    expect(toAuditExportRecord(record({ context: '{"@rule":"r"}' })).context).toBeNull();
    expect(toAuditExportRecord(record({ context: '{"dataset":"raw"}' }))).toMatchObject({ rule: null, context: { dataset: "raw" } });
  });

  it("one line per record, whatever the values hold (newlines, quotes, non-ASCII stay escaped inside the line)", () => {
    const line = auditExportLine(record({ principal: 'evil\n{"seq":1}', objectPath: "dé\u2028jà\r\n", context: '{"k":"v\\nw"}' }));
    expect(line.indexOf("\n")).toBe(line.length - 1);
    expect(JSON.parse(line)).toMatchObject({ principal: 'evil\n{"seq":1}', object: "dé\u2028jà\r\n", context: { k: "v\nw" } });
  });

  it("a stored context that is not a JSON object is left out, not guessed at", () => {
    expect(toAuditExportRecord(record({ context: "not json" })).context).toBeNull();
    expect(toAuditExportRecord(record({ context: "[1]" })).context).toBeNull();
  });
});

describe("local keystore export", () => {
  it("pages through more than 1,000 records, matches audit list, and records itself first; afterSeq resumes across a page boundary", async () => {
    const { ks } = await freshKeystore(["datasets/raw"]);
    const ctx = { dataset: "raw" };
    const e = await ks.wrap("datasets/raw", randomBytes(32), ctx);
    for (let i = 0; i < 1100; i++) (await ks.unwrap(e, ctx, { operation: "decrypt", path: `f${i}` })).fill(0);
    const lines: string[] = [];
    for await (const l of exportLocalAudit(ks)) lines.push(l);
    const listed = ks.listAudit();
    expect(lines).toEqual(listed.map(auditExportLine));
    expect(JSON.parse(lines.at(-1)!)).toMatchObject({ operation: "audit.export", principal: "tester", outcome: "ok" });
    expect(lines.length).toBeGreaterThan(1100);
    const resumed: string[] = [];
    for await (const l of exportLocalAudit(ks, { afterSeq: 999 })) resumed.push(l);
    expect(resumed.slice(0, -1)).toEqual(lines.slice(999)); // the last line is this export's own record
    expect(ks.verifyAudit().ok).toBe(true);
  });
});

describe("pipeseal audit export (built CLI, local keystore)", () => {
  it("writes stdout, or an atomic 0600 file with -o; --since filters; audit list agrees", async () => {
    const home = path.join(tempDir(), "ks");
    const env = { PIPESEAL_HOME: home, PIPESEAL_PRINCIPAL: "alice" };
    expect(cli(["init"], env).status).toBe(0);
    expect(cli(["key", "create", "datasets/raw"], env).status).toBe(0);
    const out = path.join(path.dirname(home), "audit.jsonl");
    const r = cli(["audit", "export", "-o", out], env);
    expect(r.stderr).toBe("");
    expect(r.status).toBe(0);
    expect(statSync(out).mode & 0o777).toBe(0o600);
    const again = cli(["audit", "export", "-o", out], env); // one rule with encrypt/decrypt: no silent overwrite
    expect(again.status).toBe(2);
    expect(again.stderr).toMatch(/already exists; use --force.*\[INVALID_ARGUMENT\]/);
    const fromFile = readFileSync(out, "utf8")
      .trimEnd()
      .split("\n")
      .map((l) => JSON.parse(l));
    expect(fromFile.map((x) => x.operation)).toEqual(["init", "key.create", "audit.export"]);
    const listed = JSON.parse(cli(["audit", "list", "--json"], env).stdout.toString()) as AuditRecord[];
    expect(fromFile).toEqual(listed.slice(0, 3).map(toAuditExportRecord));
    const stdout = cli(["audit", "export", "--since", "1h"], env);
    expect(stdout.status).toBe(0);
    expect(
      stdout.stdout
        .toString()
        .trimEnd()
        .split("\n")
        .map((l) => JSON.parse(l).seq),
    ).toEqual([1, 2, 3, 4]);
    expect(cli(["audit", "export", "--since", "soon"], env)).toMatchObject({ status: 2 });
    // a SIEM resumes after the last seq it stored: only newer records, and the export says so
    const resumed = cli(["audit", "export", "--after-seq", "3"], env)
      .stdout.toString()
      .trimEnd()
      .split("\n")
      .map((l) => JSON.parse(l));
    expect(resumed.map((x) => x.seq)).toEqual([4, 5]);
    expect(resumed.at(-1)).toMatchObject({ operation: "audit.export", context: { afterSeq: "3" } });
    for (const bad of ["-1", "2.5", "x"]) {
      const refused = cli(["audit", "export", "--after-seq", bad], env);
      expect(refused.status).toBe(2);
      expect(refused.stderr.toString()).toContain("INVALID_ARGUMENT");
    }
    expect(cli(["audit", "verify"], env).status).toBe(0);
  });
});
