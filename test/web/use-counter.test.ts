/** The overview's incremental use counts agree with counting from scratch (countsPerRange, the reference), as records arrive and the window moves. */
import { describe, expect, it } from "vitest";
import { countsPerRange } from "../../src/audit/usage.js";
import { UseCounter } from "../../src/web/use-counter.js";
import { freshKeystore } from "../helpers/keystore.js";

const HOUR = 3_600_000;
const T0 = Date.parse("2026-03-01T00:00:00.000Z");
const OPS = ["unwrap", "decrypt"];

describe("UseCounter", () => {
  it("matches the reference after appends into held, new and out-of-window buckets", async () => {
    const { ks } = await freshKeystore(["k"]);
    const add = (n: number, at: (i: number) => number, operation = "unwrap") =>
      ks.transaction(() => {
        for (let i = 0; i < n; i++) ks.appendAuditEvent({ operation, principal: "p", outcome: "ok", keyName: "k", keyVersion: 1, timeMs: at(i) });
      });
    add(500, (i) => T0 + i * 97_000);
    add(40, (i) => T0 + i * 60_000, "key.rotate"); // not a use
    const counter = new UseCounter(OPS, HOUR);
    const check = (first: number, n: number) => {
      const starts = Array.from({ length: n }, (_, i) => T0 + (first + i) * HOUR);
      const edges = [...starts, starts[n - 1]! + HOUR];
      const [fast, slow] = ks.readTables((db) => [counter.counts(db, starts), countsPerRange(db, {}, OPS, edges)]);
      expect(fast).toEqual(slow);
      return fast;
    };
    check(0, 12);
    add(30, (i) => T0 + 3 * HOUR + i * 1000); // into a held bucket, out of order in time
    add(20, (i) => T0 + 12 * HOUR + i * 1000); // a bucket not held yet
    add(5, () => T0 - 48 * HOUR); // before the window
    const moved = check(2, 12); // the window moves on
    expect(moved.reduce((a, b) => a + b, 0)).toBeGreaterThan(0);
    check(2, 12); // no new record: same answer
  });
});
