/** Secure aggregation over real mTLS on 127.0.0.1: a real pipeseal CA, real certificates, the real aggregator and clients. */
import { readdirSync, readFileSync, statSync } from "node:fs";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type Aggregator, SecaggClient, type SecaggSession, startAggregator } from "../../src/secagg/index.js";
import { DEFAULT_QUANTIZATION } from "../../src/secagg/quantize.js";
import { Party } from "../../src/secagg/party.js";
import { AggregatorRound } from "../../src/secagg/round.js";
import { parseConfig } from "../../src/secagg/config.js";
import { type Step, type World, STEPS, TD, makeWorld, partyName, plainSum, vectors } from "./harness.js";

let w: World;
let agg: Aggregator;
const clients: SecaggClient[] = [];
const N = 10;
const DIM = 64;

beforeAll(async () => {
  w = await makeWorld();
  await w.issue("aggregator", "prod", { server: true });
  for (let i = 0; i < N; i++) await w.issue(partyName(i), i % 2 ? "prod" : "eu");
  await w.issue("intruder");
  agg = await startAggregator({
    tls: { certDir: w.certs("aggregator"), watch: false },
    parties: [`spiffe://${TD}/*/hospital-*`],
    round: { dim: DIM, threshold: 6, minParties: 7, maxParties: 11, graph: "full", neighbours: 0, quantization: DEFAULT_QUANTIZATION },
    audit: (e) => void w.ks.appendAuditEvent(e),
    timing: { joinWindowMs: 1000, stepTimeoutMs: 5000, joinTimeoutMs: 30_000 },
    pollMs: 2000,
  });
  for (let i = 0; i < N; i++) clients.push(new SecaggClient({ server: agg.url, tls: { certDir: w.certs(partyName(i)) }, waitMs: 30_000 }));
}, 120_000);

afterAll(async () => {
  for (const c of clients) await c.close();
  await agg?.close();
  w?.ks.close();
});

/** Runs one party; it vanishes (stops answering) before step `stop`, if given. */
async function runParty(s: SecaggSession, v: Float32Array, stop?: Step): Promise<void> {
  if (stop === "advertise") return;
  await s.advertise();
  if (stop === "share") return;
  await s.shareKeys();
  if (stop === "mask") return;
  await s.sendMasked(v);
  if (stop === "consistency") return;
  await s.signSurvivors();
  if (stop === "unmask") return;
  await s.unmask();
}

function expectClose(got: Float64Array, want: Float64Array, bound: number): void {
  expect(got.length).toBe(want.length);
  for (let i = 0; i < want.length; i++) expect(Math.abs(got[i]! - want[i]!)).toBeLessThanOrEqual(bound + 1e-9);
}

function auditOf(round: string) {
  return w.ks.listAudit({}).filter((r) => r.objectPath === `secagg/${round}`);
}

describe("secagg over mTLS", () => {
  it("10 parties: the result equals the plain sum within the quantization bound, and the round is audited", async () => {
    const inputs = vectors(N, DIM, 7);
    const reports = await Promise.all(clients.map((c, i) => c.submit("r-all", inputs[i]!)));
    expect(reports.every((r) => r.parties === N)).toBe(true);
    const res = await clients[0]!.result("r-all");
    expect(res.included).toHaveLength(N);
    expect(res.errorBound).toBeCloseTo((N * 8) / (2 ** 22 - 1), 12);
    expectClose(res.sum, plainSum(inputs), res.errorBound);
    const records = auditOf("r-all");
    const round = records.find((r) => r.operation === "secagg.round")!;
    expect(round.outcome).toBe("ok");
    expect(JSON.parse(round.context!)).toMatchObject({
      advertised: "10",
      shared: "10",
      masked: "10",
      signed: "10",
      unmasked: "10",
      resultSha256: res.digest,
      threshold: "6",
      consistencySha256: agg.round("r-all")!.summary().consistencyDigest,
    });
    expect(JSON.parse(round.context!).consistencySha256).toMatch(/^[0-9a-f]{64}$/);
    expect(records.filter((r) => r.operation === "secagg.member")).toHaveLength(N);
    expect(records.some((r) => r.operation === "secagg.result-read" && r.principal === clients[0]!.identity.spiffeId)).toBe(true);
    // what each party sent: its vector (4·dim) plus a few kB of keys and shares
    for (const r of reports) expect(r.bytesSent).toBeGreaterThan(4 * DIM);
  }, 60_000);

  for (const step of STEPS) {
    it(`3 parties vanish before the ${step} step: the sum of the survivors' inputs is still exact`, async () => {
      const round = `r-drop-${step}`;
      const inputs = vectors(N, DIM, 11 + STEPS.indexOf(step));
      const dropped = new Set([1, 4, 8]);
      const sessions = clients.map((c) => c.session(round));
      await Promise.all(sessions.map((s, i) => runParty(s, inputs[i]!, dropped.has(i) ? step : undefined)));
      const res = await clients[0]!.result(round);
      // parties that sent their masked vector are in the sum, even if they vanished afterwards
      const after = STEPS.indexOf(step) > STEPS.indexOf("mask");
      const included = inputs.filter((_, i) => after || !dropped.has(i));
      expect(res.included).toHaveLength(included.length);
      expectClose(res.sum, plainSum(included), res.errorBound);
      const records = auditOf(round);
      const ctx = JSON.parse(records.find((r) => r.operation === "secagg.round")!.context!);
      expect(Number(ctx.unmasked)).toBe(7);
      const members = records.filter((r) => r.operation === "secagg.member");
      expect(members).toHaveLength(step === "advertise" ? 7 : 10);
      expect(members.filter((r) => JSON.parse(r.context!).input === "included")).toHaveLength(included.length);
      expect(Number(ctx.signed)).toBe(step === "unmask" ? 10 : 7);
    }, 60_000);
  }

  it("fewer than t survivors: the round aborts with SECAGG_ABORTED and releases nothing", async () => {
    const round = "r-below-t";
    const inputs = vectors(N, DIM, 3);
    const sessions = clients.map((c) => c.session(round));
    const outcomes = await Promise.allSettled(sessions.map((s, i) => runParty(s, inputs[i]!, i < 5 ? "mask" : undefined)));
    const errors = outcomes.filter((o): o is PromiseRejectedResult => o.status === "rejected").map((o) => (o.reason as { code?: string }).code);
    expect(errors).toEqual(["SECAGG_ABORTED", "SECAGG_ABORTED", "SECAGG_ABORTED", "SECAGG_ABORTED", "SECAGG_ABORTED"]);
    await expect(clients[6]!.result(round)).rejects.toMatchObject({ code: "SECAGG_ABORTED" });
    const rec = auditOf(round).find((r) => r.operation === "secagg.round")!;
    expect(rec).toMatchObject({ outcome: "error", errorCode: "SECAGG_ABORTED" });
    expect(JSON.parse(rec.context!)).toMatchObject({ abortedAt: "mask", masked: "5" });
    expect(agg.round(round)!.result).toBeUndefined();
  }, 60_000);

  it("a party outside the allow-list is refused at the TLS gate (and audited)", async () => {
    const intruder = new SecaggClient({ server: agg.url, tls: { certDir: w.certs("intruder") }, waitMs: 5000 });
    try {
      await expect(intruder.submit("r-all-2", new Float32Array(DIM))).rejects.toMatchObject({ code: "CERT_REJECTED" });
      await expect(intruder.result("r-all")).rejects.toMatchObject({ code: "CERT_REJECTED" });
    } finally {
      await intruder.close();
    }
    expect(w.ks.listAudit({}).some((r) => r.operation === "secagg.refuse" && r.principal === `spiffe://${TD}/prod/intruder`)).toBe(true);
  }, 30_000);

  it("an advertisement replayed from another round is refused by the aggregator (and audited)", async () => {
    const c = clients[3]!;
    const party = new Party({ identity: c.identity });
    const old = parseConfig((await c.call("r-old/config")).body);
    const ad = party.advertise(old); // a real advertisement, signed for round r-old
    await c.call("r-new/config"); // round r-new exists
    await expect(c.call("r-new/advertise", { method: "POST", json: ad })).rejects.toMatchObject({
      code: "SECAGG_PROTOCOL",
      message: expect.stringContaining("another round"),
    });
    // the same party's advertisement posted by another party is refused too
    await c.call("r-old/advertise", { method: "POST", json: ad });
    await expect(clients[4]!.call("r-new/advertise", { method: "POST", json: ad })).rejects.toMatchObject({ code: "SECAGG_PROTOCOL" });
    expect(w.ks.listAudit({}).some((r) => r.operation === "secagg.refuse" && r.principal === c.identity.spiffeId)).toBe(true);
  }, 30_000);

  it("a masked vector on the wire is indistinguishable from uniform (χ² over bytes and bits), even for an all-zero input", async () => {
    // long-lived: a larger round of its own
    const big = await startAggregator({
      tls: { certDir: w.certs("aggregator"), watch: false },
      parties: [`spiffe://${TD}/*/hospital-*`],
      round: { dim: 8192, threshold: 6, minParties: 10, maxParties: 11, graph: "full", neighbours: 0, quantization: DEFAULT_QUANTIZATION },
      audit: (e) => void w.ks.appendAuditEvent(e),
      timing: { joinWindowMs: 200, stepTimeoutMs: 5000 },
      pollMs: 2000,
    });
    const cs = clients.map((_, i) => new SecaggClient({ server: big.url, tls: { certDir: w.certs(partyName(i)) }, waitMs: 30_000 }));
    try {
      const zero = new Float32Array(8192); // quantizes to one constant word: the least random input there is
      const sent: Uint32Array[] = [];
      await Promise.all(
        cs.map(async (c) => {
          const s = c.session("r-uniform");
          await s.advertise();
          await s.shareKeys();
          sent.push(await s.sendMasked(zero));
          await s.signSurvivors();
          await s.unmask();
        }),
      );
      lastMasked.push(...sent);
      for (const y of sent) expect(chiSquareBytes(y)).toBeLessThan(CHI2_255_P1E6);
      // sanity: the same test does fail on the unmasked quantized input
      const plain = new Uint32Array(8192).fill(2 ** 21);
      expect(chiSquareBytes(plain)).toBeGreaterThan(CHI2_255_P1E6);
      for (const y of sent) expect(Math.abs(bitBalance(y))).toBeLessThan(5); // z-score of the count of one bits
      const res = await cs[0]!.result("r-uniform");
      expect(Math.max(...res.sum.map(Math.abs))).toBeLessThanOrEqual(res.errorBound + 1e-9);
    } finally {
      for (const c of cs) await c.close();
      await big.close();
    }
  }, 60_000);

  it("a compromised aggregator that asks survivors for both shares of a peer gets nothing over the wire", async () => {
    const round = "r-evil";
    const inputs = vectors(N, DIM, 5);
    // the aggregator's code is tampered with for this round: every party is told the victim both survived and dropped
    const honest = AggregatorRound.prototype.unmaskRequest;
    const victim = clients[4]!.identity.spiffeId;
    AggregatorRound.prototype.unmaskRequest = function (this: AggregatorRound, peer: string) {
      const req = honest.call(this, peer);
      return this.config.round === round ? { ...req, dropped: [...req.dropped, victim] } : req;
    };
    try {
      const outcomes = await Promise.allSettled(clients.map((c, i) => runParty(c.session(round), inputs[i]!)));
      for (const o of outcomes) expect(o).toMatchObject({ status: "rejected", reason: { code: "SECAGG_UNSAFE_REQUEST" } });
    } finally {
      AggregatorRound.prototype.unmaskRequest = honest;
    }
    expect(agg.round(round)!.summary().unmasked).toEqual([]); // not one share was revealed
    await expect(clients[0]!.result(round)).rejects.toMatchObject({ code: "SECAGG_ABORTED" });
  }, 60_000);

  it("a compromised aggregator that shows half the parties another survivor set: the other half's signatures do not verify, the round aborts at the check, nothing is revealed", async () => {
    const round = "r-split";
    const inputs = vectors(N, DIM, 6);
    const honest = AggregatorRound.prototype.consistencyRequest;
    const victim = clients[0]!.identity.spiffeId;
    const groupB = new Set(clients.slice(5).map((c) => c.identity.spiffeId));
    AggregatorRound.prototype.consistencyRequest = function (this: AggregatorRound, peer: string) {
      const req = honest.call(this, peer);
      return this.config.round === round && groupB.has(peer) ? { ...req, u3: req.u3.filter((p) => p !== victim) } : req;
    };
    let outcomes: PromiseSettledResult<void>[];
    try {
      outcomes = await Promise.allSettled(clients.map((c, i) => runParty(c.session(round), inputs[i]!)));
    } finally {
      AggregatorRound.prototype.consistencyRequest = honest;
    }
    outcomes.forEach((o, i) => expect(o).toMatchObject({ status: "rejected", reason: { code: i < 5 ? "SECAGG_ABORTED" : "SECAGG_PROTOCOL" } }));
    const s = agg.round(round)!.summary();
    expect(s).toMatchObject({ step: "aborted", abort: { step: "consistency" }, unmasked: [] });
    expect(s.signed).toHaveLength(5);
    const rec = auditOf(round).find((r) => r.operation === "secagg.round")!;
    expect(JSON.parse(rec.context!)).toMatchObject({ abortedAt: "consistency", signed: "5", unmasked: "0" });
    expect(w.ks.listAudit({}).filter((r) => r.operation === "secagg.refuse" && r.objectPath === `/v1/secagg/rounds/${round}/consistency`)).toHaveLength(5);
  }, 60_000);

  it("a compromised aggregator that forwards t − 1 of the signatures over U3: every party refuses over the wire (SECAGG_INCONSISTENT), nothing is revealed", async () => {
    const round = "r-few-sigs";
    const inputs = vectors(N, DIM, 8);
    const honest = AggregatorRound.prototype.unmaskRequest;
    AggregatorRound.prototype.unmaskRequest = function (this: AggregatorRound, peer: string) {
      const req = honest.call(this, peer);
      return this.config.round === round ? { ...req, signatures: req.signatures.slice(0, this.config.threshold - 1) } : req;
    };
    try {
      const outcomes = await Promise.allSettled(clients.map((c, i) => runParty(c.session(round), inputs[i]!)));
      for (const o of outcomes) expect(o).toMatchObject({ status: "rejected", reason: { code: "SECAGG_INCONSISTENT" } });
    } finally {
      AggregatorRound.prototype.unmaskRequest = honest;
    }
    expect(agg.round(round)!.summary()).toMatchObject({ unmasked: [] });
    await expect(clients[0]!.result(round)).rejects.toMatchObject({ code: "SECAGG_ABORTED" });
  }, 60_000);

  it("SecAgg+ over mTLS (k = 4, t = 3): each party masks with 4 neighbours; the sum is exact with 2 dropouts", async () => {
    const plus = await startAggregator({
      tls: { certDir: w.certs("aggregator"), watch: false },
      parties: [`spiffe://${TD}/*/hospital-*`],
      round: { dim: DIM, threshold: 3, minParties: 8, maxParties: 20, graph: "plus", neighbours: 4, quantization: DEFAULT_QUANTIZATION },
      audit: (e) => void w.ks.appendAuditEvent(e),
      timing: { joinWindowMs: 1000, stepTimeoutMs: 5000 },
      pollMs: 2000,
    });
    const cs = clients.map((_, i) => new SecaggClient({ server: plus.url, tls: { certDir: w.certs(partyName(i)) }, waitMs: 30_000 }));
    try {
      const inputs = vectors(N, DIM, 99);
      const sessions = cs.map((c) => c.session("r-plus"));
      await Promise.all(sessions.map((s, i) => runParty(s, inputs[i]!, i === 2 || i === 7 ? "mask" : undefined)));
      const round = plus.round("r-plus")!;
      const res = await cs[0]!.result("r-plus");
      const included = inputs.filter((_, i) => i !== 2 && i !== 7);
      expectClose(res.sum, plainSum(included), res.errorBound);
      expect(round.summary().graph).toBe("plus");
    } finally {
      for (const c of cs) await c.close();
      await plus.close();
    }
  }, 60_000);

  it("the aggregator writes no party's vector anywhere", () => {
    // every file under the test world (keystore, audit, certificates) is free of any 16-byte run of a masked vector
    const files: string[] = [];
    const walk = (d: string) => {
      for (const f of readdirSync(d)) {
        const p = path.join(d, f);
        if (statSync(p).isDirectory()) walk(p);
        else files.push(p);
      }
    };
    walk(w.dir);
    expect(files.length).toBeGreaterThan(0);
    const needles = lastMasked.map((y) => Buffer.from(y.buffer, y.byteOffset, 16));
    for (const f of files) {
      const data = readFileSync(f);
      for (const n of needles) expect(data.includes(n)).toBe(false);
    }
  });
});

// χ² critical value for 255 degrees of freedom at p = 1e-6 (Wilson–Hilferty approximation: ≈ 368)
const CHI2_255_P1E6 = 368;

function chiSquareBytes(y: Uint32Array): number {
  const bytes = Buffer.from(y.buffer, y.byteOffset, y.byteLength);
  const counts = new Array<number>(256).fill(0);
  for (const b of bytes) counts[b]!++;
  const expected = bytes.length / 256;
  return counts.reduce((s, c) => s + (c - expected) ** 2 / expected, 0);
}

function bitBalance(y: Uint32Array): number {
  let ones = 0;
  for (const w32 of y) {
    let x = w32;
    while (x) {
      ones += x & 1;
      x >>>= 1;
    }
  }
  const n = y.length * 32;
  return (ones - n / 2) / Math.sqrt(n / 4);
}

const lastMasked: Uint32Array[] = [];
