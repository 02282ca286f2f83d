/** Filtered audit reads (filter.ts, query.ts, usage.ts) on a real keystore: exact matches, no injection, keyset pages, timelines, filtered exports. */
import { beforeAll, describe, expect, it } from "vitest";
import { auditTimeline, filteredAuditRecords, queryAuditPage } from "../../src/audit/query.js";
import { countsPerRange, usageByPrincipal } from "../../src/audit/usage.js";
import { exportLocalAudit } from "../../src/audit/export-local.js";
import type { AuditFilter } from "../../src/audit/filter.js";
import type { AuditRecord } from "../../src/audit/types.js";
import { AUDIT_QUERY_CAPABILITY, AUDIT_QUERY_MIGRATIONS } from "../../src/audit/query-indexes.js";
import { freshKeystore } from "../helpers/keystore.js";

const T0 = Date.parse("2026-03-01T00:00:00.000Z");
const HOUR = 3_600_000;
let ks: Awaited<ReturnType<typeof freshKeystore>>["ks"];
const records: AuditRecord[] = [];

beforeAll(async () => {
  ({ ks } = await freshKeystore(["k"]));
  ks.transaction(() => {
    for (let i = 0; i < 600; i++) {
      records.push(
        ks.appendAuditEvent({
          operation: i % 3 === 0 ? "decrypt" : "unwrap",
          principal: `p${i % 4}`,
          outcome: i % 10 === 0 ? "denied" : "ok",
          keyName: i % 2 ? "k" : "other",
          keyVersion: 1 + (i % 3),
          objectPath: i === 5 ? "a%b_c.pseal" : `obj-${i}.pseal`,
          context: i === 7 ? { 'we"ird.key': "v$1" } : { dataset: i % 2 ? "users" : "events" },
          timeMs: T0 + i * HOUR,
        }),
      );
    }
  });
  ks.ensureTables(AUDIT_QUERY_CAPABILITY, AUDIT_QUERY_MIGRATIONS);
});

const read = <T>(q: Parameters<typeof ks.readTables<T>>[0]): T => ks.readTables(q);
const all = (f: AuditFilter) => [...filteredAuditRecords(read, f)].map((r) => r.seq);
const matching = (pred: (r: AuditRecord) => boolean) => records.filter(pred).map((r) => r.seq);

describe("audit filters", () => {
  it("match exactly, each alone and together", () => {
    expect(all({ principal: "p1" })).toEqual(matching((r) => r.principal === "p1"));
    expect(all({ principal: "p1", outcome: "denied", key: "other" })).toEqual(
      matching((r) => r.principal === "p1" && r.outcome === "denied" && r.keyName === "other"),
    );
    expect(all({ operation: "decrypt", version: 2 })).toEqual(matching((r) => r.operation === "decrypt" && r.keyVersion === 2));
    expect(all({ context: { dataset: "users" } })).toEqual(matching((r) => r.context === '{"dataset":"users"}'));
    expect(all({ sinceMs: T0 + 100 * HOUR, untilMs: T0 + 110 * HOUR }).length).toBe(10);
    expect(all({ text: "OBJ-59" })).toEqual(matching((r) => /obj-59/.test(r.objectPath ?? ""))); // case-insensitive substring
  });

  it("treat values as data: SQL in a value matches nothing, LIKE wildcards are literal, odd context keys work", () => {
    expect(all({ principal: "p1' OR '1'='1" })).toEqual([]);
    expect(all({ key: 'k" OR 1=1 --' })).toEqual([]);
    expect(all({ object: "%" })).toEqual([records[5]!.seq]);
    expect(all({ object: "_" })).toEqual([records[5]!.seq]);
    expect(all({ text: "%" }).length).toBe(1);
    expect(all({ context: { 'we"ird.key': "v$1" } })).toEqual([records[7]!.seq]);
    expect(all({ context: { 'we"ird.key': "v" } })).toEqual([]);
    expect(() => all({ outcome: "ok' OR 1=1" as "ok" })).toThrow(expect.objectContaining({ code: "INVALID_ARGUMENT" }));
  });
});

describe("keyset pages", () => {
  it("walk every match exactly once, newest first, and back", () => {
    const f: AuditFilter = { principal: "p2" };
    const expected = matching((r) => r.principal === "p2").reverse();
    const seen: number[] = [];
    const cursors: (number | null)[] = [];
    let page = read((db) => queryAuditPage(db, f, { limit: 40 }));
    expect(page.newer).toBeNull();
    for (;;) {
      seen.push(...page.records.map((r) => r.seq));
      cursors.push(page.newer);
      if (page.older === null) break;
      const before = page.older;
      page = read((db) => queryAuditPage(db, f, { before, limit: 40 }));
    }
    expect(seen).toEqual(expected);
    const after = page.newer!;
    const back = read((db) => queryAuditPage(db, f, { after, limit: 40 }));
    expect(back.records.map((r) => r.seq)).toEqual(expected.slice(-page.records.length - 40, -page.records.length));
    expect(() => read((db) => queryAuditPage(db, f, { limit: 0 }))).toThrow(expect.objectContaining({ code: "INVALID_ARGUMENT" }));
  });

  it("a page of no match has no cursors", () => {
    const page = read((db) => queryAuditPage(db, { principal: "nobody" }));
    expect(page).toEqual({ records: [], older: null, newer: null });
  });
});

describe("timelines and usage", () => {
  it("a timeline's buckets add up to the filtered count and cover its span", () => {
    const t = read((db) => auditTimeline(db, { principal: "p3" }, { maxBuckets: 30 }));
    expect(t.grain).toBe("day");
    expect(t.total).toBe(matching((r) => r.principal === "p3").length);
    expect(t.buckets[0]!.start).toBe("2026-03-01");
    expect(t.buckets.length).toBe(25); // hours 3..599: days 0..24
  });

  it("counts per range and usage per principal agree with the records", () => {
    const counts = read((db) => countsPerRange(db, {}, ["decrypt"], [T0, T0 + 24 * HOUR, T0 + 48 * HOUR]));
    expect(counts).toEqual([8, 8]);
    const rows = read((db) => usageByPrincipal(db, { key: "k" }, ["unwrap", "decrypt"]));
    expect(rows.reduce((n, r) => n + r.count, 0)).toBe(300);
    expect(rows.reduce((n, r) => n + r.denied, 0)).toBe(0); // denied ones are the even i: key "other"
  });
});

describe("filtered export", () => {
  it("writes exactly the filtered records up to throughSeq, and records itself with its filter", async () => {
    const head = records[records.length - 1]!.seq;
    const lines: string[] = [];
    for await (const l of exportLocalAudit(ks, { filter: { principal: "p0", outcome: "denied" }, throughSeq: head })) lines.push(l);
    expect(lines.map((l) => (JSON.parse(l) as { seq: number }).seq)).toEqual(matching((r) => r.principal === "p0" && r.outcome === "denied"));
    const [own] = ks.listAudit({ limit: 1 });
    expect(own).toMatchObject({ operation: "audit.export", context: JSON.stringify({ outcome: "denied", principal: "p0", throughSeq: String(head) }) });
  });
});
