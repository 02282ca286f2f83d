import { writeFileSync } from "node:fs";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { encryptFile } from "../../src/envelope/files.js";
import { openKeystore } from "../../src/keys/index.js";
import { type DpQuery, PrivacyLedger, collect, planQuery, release, runPrivateQuery, seededRandomSource } from "../../src/privacy/index.js";
import { freshKeystore, tempDir } from "../helpers/keystore.js";

type R = Record<string, unknown>;
async function* rowsOf(records: R[]) {
  let row = 0;
  for (const record of records) yield { row: ++row, record };
}
const rng = () => seededRandomSource("query-test");
const exact = (q: DpQuery, records: R[]) => collect(q, rowsOf(records), rng());

describe("contribution bounding by privacy unit", () => {
  const others = Array.from({ length: 500 }, (_, i) => ({ id: `p${i}`, spend: 10 }));
  const heavy = Array.from({ length: 1000 }, () => ({ id: "whale", spend: 1e9 }));

  it("a person with 1,000 rows moves a count by at most max-contributions", async () => {
    for (const k of [1, 3, 7]) {
      const q: DpQuery = { kind: "count", privacyUnit: "id", maxContributions: k, epsilon: 1 };
      const without = await exact(q, others);
      const withWhale = await exact(q, [...others, ...heavy]);
      if (without.kind !== "count" || withWhale.kind !== "count") throw new Error("kind");
      expect(withWhale.count - without.count).toBe(BigInt(k));
    }
  });

  it("and a clamped sum by at most k·max(|lo|, |hi|); a mean stays in its bounds", async () => {
    const q: DpQuery = { kind: "sum", column: "spend", bounds: [0, 500], privacyUnit: "id", maxContributions: 3, epsilon: 1 };
    const a = await exact(q, others);
    const b = await exact(q, [...others, ...heavy]);
    if (a.kind !== "sum" || b.kind !== "sum") throw new Error("kind");
    expect(Number(b.units - a.units) * a.g).toBe(1500);
    expect(Number(a.units) * a.g).toBe(5000);
    const plan = planQuery({ kind: "mean", column: "spend", bounds: [0, 500], epsilon: 1 });
    const m = release(plan, await exact(plan.query, [...others, ...heavy.slice(0, 1)]), rng(), "mean");
    expect(m.value).toBeGreaterThanOrEqual(0);
    expect(m.value).toBeLessThanOrEqual(500);
  });

  it("keeps a uniformly random subset of a unit's rows, not the first ones", async () => {
    const rows = Array.from({ length: 100 }, (_, i) => ({ id: "one", v: i }));
    const q: DpQuery = { kind: "sum", column: "v", bounds: [0, 100], privacyUnit: "id", maxContributions: 1, epsilon: 1 };
    const seen = new Set<number>();
    const source = seededRandomSource("bounding");
    for (let i = 0; i < 40; i++) {
      const e = await collect(q, rowsOf(rows), source);
      if (e.kind === "sum") seen.add(Number(e.units) * e.g);
    }
    expect(seen.size).toBeGreaterThan(20);
  });

  it("without a privacy unit every row is its own unit; max-contributions needs one", () => {
    expect(() => planQuery({ kind: "count", maxContributions: 3, epsilon: 1 })).toThrow(expect.objectContaining({ code: "INVALID_ARGUMENT" }));
  });
});

describe("clamping, empty groups and exact sums", () => {
  it("clamps values into the bounds and sums exactly on the grid", async () => {
    const e = await exact({ kind: "sum", column: "x", bounds: [-1, 1], epsilon: 1 }, [
      { x: 5 },
      { x: -7 },
      { x: "0.25" },
      { x: 0.1 },
      { x: 0.2 },
      { x: null },
      { x: "" },
    ]);
    if (e.kind !== "sum") throw new Error("kind");
    // 1 - 1 + 0.25 + 0.1 + 0.2 on a 2^-32 grid: exact in units, the float sum's rounding never enters
    expect(Number(e.units) * e.g).toBeCloseTo(0.55, 9);
    expect(e.g).toBe(2 ** -32);
  });

  it("releases noise for empty bins and empty inputs; a mean of nothing is the midpoint with the whole range as CI", async () => {
    const plan = planQuery({ kind: "histogram", column: "age", bins: [0, 18, 30, 120], epsilon: 1 });
    const r = release(plan, await exact(plan.query, [{ age: 20 }, { age: 25 }, { age: 200 }]), rng(), "h");
    expect(r.bins).toHaveLength(3);
    for (const b of r.bins!) expect(b.ci95.lo).toBeLessThanOrEqual(b.count);
    const count = planQuery({ kind: "count", epsilon: 1 });
    expect(Number.isInteger(release(count, await exact(count.query, []), rng(), "c").value)).toBe(true);
    const mean = planQuery({ kind: "mean", column: "x", bounds: [0, 10], epsilon: 1 });
    const m = release(mean, { kind: "mean", count: 0n, centeredUnits: 0n, g: 2 ** -29, halfUnits: 5n * 2n ** 29n, mid: 5 }, seededRandomSource("m"), "m");
    expect(m.value).toBeGreaterThanOrEqual(0);
    expect(m.value).toBeLessThanOrEqual(10);
  });

  it("quantiles land near the truth and inside their bounds", async () => {
    const rows = Array.from({ length: 20000 }, (_, i) => ({ v: (i % 1000) / 10 }));
    const plan = planQuery({ kind: "quantile", column: "v", bounds: [0, 100], quantiles: [0.1, 0.5, 0.9], epsilon: 1 });
    const r = release(plan, await exact(plan.query, rows), rng(), "q");
    expect(r.quantiles!.map((q) => Math.round(q.value))).toEqual([10, 50, 90]);
    for (const q of r.quantiles!) {
      expect(q.ci95.lo).toBeLessThanOrEqual(q.value);
      expect(q.ci95.hi).toBeGreaterThanOrEqual(q.value);
    }
  });
});

describe("typed errors", () => {
  const bad = (q: Partial<DpQuery>) => () => planQuery({ kind: "sum", column: "x", bounds: [0, 1], epsilon: 1, ...q } as DpQuery);
  it("bad bounds, bins, quantiles and mechanism parameters", () => {
    for (const q of [
      { bounds: [1, 0] },
      { bounds: [0, Number.NaN] },
      { epsilon: 0 },
      { epsilon: "abc" },
      { mechanism: "gaussian" },
      { mechanism: "laplace", rho: 1 },
      { kind: "histogram", bins: [3, 2] },
      { kind: "histogram", bins: [1] },
      { kind: "quantile", quantiles: [1.5] },
      { column: "" },
    ] as Partial<DpQuery>[]) {
      expect(bad(q)).toThrow(expect.objectContaining({ code: "INVALID_ARGUMENT" }));
    }
  });
  it("missing bounds say why they are needed: public, and what they do for the query", () => {
    const why = {
      sum: /^a DP sum needs public --bounds lo:hi, chosen without looking at the data: values are clamped into them and the noise is scaled to them/,
      mean: /^a DP mean needs public --bounds lo:hi.*the noise is scaled to them/,
      quantile: /^DP quantiles need public --bounds lo:hi, chosen without looking at the data: the quantiles are searched for within them/,
    };
    for (const [kind, message] of Object.entries(why)) {
      expect(bad({ kind: kind as DpQuery["kind"], bounds: undefined, quantiles: [0.5] })).toThrow(
        expect.objectContaining({ code: "INVALID_ARGUMENT", message: expect.stringMatching(message) }),
      );
    }
  });
  it("unknown columns and non-numeric values (the row and column, never the value)", async () => {
    await expect(exact({ kind: "sum", column: "nope", bounds: [0, 1], epsilon: 1 }, [{ x: 1 }])).rejects.toMatchObject({
      code: "INVALID_ARGUMENT",
      message: expect.stringContaining("unknown column"),
    });
    await expect(exact({ kind: "count", where: [{ column: "cty", value: "DE" }], epsilon: 1 }, [{ x: 1 }])).rejects.toMatchObject({ code: "INVALID_ARGUMENT" });
    const e = exact({ kind: "sum", column: "x", bounds: [0, 1], epsilon: 1 }, [{ x: 1 }, { x: "secret-ssn-123" }]);
    await expect(e).rejects.toMatchObject({ code: "INVALID_ARGUMENT", message: expect.stringContaining("row 2, column x") });
    await expect(e).rejects.not.toMatchObject({ message: expect.stringContaining("secret") });
    for (const v of ["0x10", "0b1", "  ", "Infinity", "1e400", "12abc", true, { n: 1 }]) {
      await expect(exact({ kind: "sum", column: "x", bounds: [0, 1], epsilon: 1 }, [{ x: v }])).rejects.toMatchObject({ code: "INVALID_ARGUMENT" });
    }
    const ok = await exact({ kind: "sum", column: "x", bounds: [-10, 10], epsilon: 1 }, [{ x: " 1.5 " }, { x: "-2e0" }, { x: ".5" }, { x: 3n }]);
    expect(ok.kind === "sum" && Number(ok.units) * ok.g).toBe(3);
  });
});

describe("runPrivateQuery on files", () => {
  it("a query over the limit is refused before the sealed input is opened: no decrypt is audited", async () => {
    const { ks } = await freshKeystore(["datasets/raw"]);
    const dir = tempDir();
    const plain = path.join(dir, "c.csv");
    writeFileSync(plain, "id,country\n1,DE\n2,FR\n3,DE\n");
    await encryptFile(ks, plain, `${plain}.pseal`, { keyName: "datasets/raw" });
    new PrivacyLedger(ks).setBudget("b", { epsilon: "1" });
    const q: DpQuery = { kind: "count", where: [{ column: "country", value: "DE" }], epsilon: "0.7" };
    const r = await runPrivateQuery(ks, q, { budget: "b", input: `${plain}.pseal` });
    expect(r.ci95!.lo).toBeLessThanOrEqual(r.value!);
    const decrypts = () => ks.listAudit().filter((a) => a.operation === "decrypt").length;
    expect(decrypts()).toBe(1);
    const before = ks.listAudit().length;
    await expect(runPrivateQuery(ks, q, { budget: "b", input: `${plain}.pseal` })).rejects.toMatchObject({ code: "PRIVACY_BUDGET_EXHAUSTED" });
    expect(decrypts()).toBe(1); // nothing was read
    const after = ks.listAudit();
    expect(after).toHaveLength(before + 1); // only the denied spend
    expect(after.at(-1)).toMatchObject({ operation: "dp.spend", outcome: "denied" });
    // the spend is recorded before the decrypt (and so before any release)
    const ops = after.map((a) => a.operation);
    expect(ops.indexOf("dp.spend")).toBeLessThan(ops.indexOf("decrypt"));
  });

  it("fails closed: when the spend's audit record cannot be written, nothing is spent, read or released", async () => {
    const { ks: setup, home } = await freshKeystore(["datasets/raw"]);
    const dir = tempDir();
    const plain = path.join(dir, "c.csv");
    writeFileSync(plain, "id\n1\n2\n");
    await encryptFile(setup, plain, `${plain}.pseal`, { keyName: "datasets/raw" });
    new PrivacyLedger(setup).setBudget("b", { epsilon: "1" });
    const ks = await openKeystore(home, {
      auditSink: {
        append: (e) => {
          if (e.operation === "dp.spend") throw new Error("SIEM down");
        },
      },
    });
    try {
      await expect(runPrivateQuery(ks, { kind: "count", epsilon: "0.5" }, { budget: "b", input: `${plain}.pseal` })).rejects.toMatchObject({
        code: "AUDIT_WRITE_FAILED",
      });
      expect(new PrivacyLedger(ks).show("b").spends).toHaveLength(0);
      expect(ks.listAudit().filter((a) => a.operation === "decrypt" || a.operation === "dp.spend")).toHaveLength(0);
    } finally {
      ks.close();
    }
  });

  it("reads JSONL and Parquet like CSV", async () => {
    const { ks } = await freshKeystore(["datasets/raw"]);
    const dir = tempDir();
    const jsonl = path.join(dir, "c.jsonl");
    writeFileSync(jsonl, Array.from({ length: 50 }, (_, i) => JSON.stringify({ id: i, age: 20 + (i % 30) })).join("\n"));
    const { ParquetWriter, ByteWriter } = await import("hyparquet-writer");
    const bw = new ByteWriter();
    const w = new ParquetWriter({
      writer: bw,
      schema: [
        { name: "root", num_children: 1 },
        { name: "age", type: "INT32", repetition_type: "OPTIONAL" },
      ] as never,
    });
    w.write({ columnData: [{ name: "age", data: Array.from({ length: 50 }, (_, i) => 20 + (i % 30)) as never }] });
    w.finish();
    const pq = path.join(dir, "c.parquet");
    writeFileSync(pq, new Uint8Array(bw.getBuffer()));
    await encryptFile(ks, pq, `${pq}.pseal`, { keyName: "datasets/raw" });
    new PrivacyLedger(ks).setBudget("b", { epsilon: "100" });
    for (const input of [jsonl, pq, `${pq}.pseal`]) {
      const r = await runPrivateQuery(ks, { kind: "mean", column: "age", bounds: [0, 100], epsilon: "20" }, { budget: "b", input });
      expect(Math.abs(r.value! - 34.5)).toBeLessThan(3);
    }
  });
});
