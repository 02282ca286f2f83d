/** The protocol core in-process: correctness in both graph modes, and the attacks a lying aggregator can try on a party. */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { Party } from "../../src/secagg/party.js";
import type { RoundConfig } from "../../src/secagg/config.js";
import { openRoster } from "../../src/secagg/roster.js";
import type { AggregatorRound } from "../../src/secagg/round.js";
import type { Roster, UnmaskRequest } from "../../src/secagg/wire.js";
import { type Step, type World, STEPS, config, drive, inProcess, makeWorld, partyName, plainSum, vectors } from "./harness.js";

let w: World;
const N = 10;

beforeAll(async () => {
  w = await makeWorld();
  for (let i = 0; i < N; i++) await w.issue(partyName(i));
  await w.issue("stranger", "dev");
}, 60_000);
afterAll(() => w.ks.close());

const setup = (cfg: RoundConfig) => inProcess(w, cfg, N);

/** Runs a whole round in-process; parties in `drop` vanish before step `at`. */
function run(cfg: RoundConfig, inputs: Float32Array[], drop: number[] = [], at?: Step) {
  const { round, parties } = setup(cfg);
  drive(round, parties, inputs, { drop: new Set(drop), ...(at ? { at } : {}) });
  return { round, parties };
}

/** A round up to the consistency check (Round 3 open), for attacks on it and on the unmasking. */
function maskedRound(cfg: RoundConfig) {
  const { round, parties } = setup(cfg);
  const inputs = vectors(N, cfg.dim, 5);
  drive(round, parties, inputs, { to: "consistency" });
  return { round, parties, inputs };
}

/** A round up to the unmasking (Round 4 open): every party signed U3. */
function signedRound(cfg: RoundConfig) {
  const m = maskedRound(cfg);
  drive(m.round, m.parties, m.inputs, { from: "consistency", to: "unmask" });
  return m;
}

function expectClose(got: Float64Array, want: Float64Array, bound: number): void {
  expect(got.length).toBe(want.length);
  for (let i = 0; i < want.length; i++) expect(Math.abs(got[i]! - want[i]!)).toBeLessThanOrEqual(bound + 1e-9);
}

/** For each party (test index), how many of its holders survive when `drop` (test indices) vanish. */
function holdersLeft(round: AggregatorRound, parties: readonly Party[], drop: ReadonlySet<number>): number[] {
  const r = openRoster(round.config, round.roster().advertisements, w.identity(partyName(0)).caPem, Date.now());
  const testIndex = r.parties.map((p) => parties.findIndex((q) => q.id === p.party));
  return parties.map((p) => r.graph.holders[r.index.get(p.id)!]!.filter((h) => !drop.has(testIndex[h]!)).length);
}

/** Three parties whose loss every holder set survives (at least t left each), with some set left at exactly t. */
function recoverableDrop(round: AggregatorRound, parties: readonly Party[]): Set<number> {
  const t = round.config.threshold;
  for (let a = 0; a < N; a++)
    for (let b = a + 1; b < N; b++)
      for (let c = b + 1; c < N; c++) {
        const left = holdersLeft(round, parties, new Set([a, b, c]));
        if (left.every((x) => x >= t) && left.some((x) => x === t)) return new Set([a, b, c]);
      }
  throw new Error("no recoverable dropout set in this graph");
}

describe("secagg core: correctness", () => {
  it("full graph, 10 parties: the plain sum within the quantization bound", () => {
    const inputs = vectors(N, 16);
    const { round } = run(config("r1"), inputs);
    expectClose(round.result!.sum, plainSum(inputs), round.result!.errorBound);
    expect(round.summary()).toMatchObject({ step: "done", signed: round.summary().masked });
  });

  for (const at of STEPS) {
    it(`full graph: 3 parties vanish before ${at}; the survivors' sum is exact`, () => {
      const inputs = vectors(N, 16, 3);
      const drop = [1, 4, 8];
      const { round } = run(config(`full-${at}`, { minParties: 7 }), inputs, drop, at);
      // a party that sent its masked vector is in the sum even if it vanishes afterwards (consistency, unmask)
      const included = inputs.filter((_, i) => STEPS.indexOf(at) > STEPS.indexOf("mask") || !drop.includes(i));
      expect(round.result!.included).toHaveLength(included.length);
      expectClose(round.result!.sum, plainSum(included), round.result!.errorBound);
    });
  }

  const plus = (id: string) => config(id, { graph: "plus", neighbours: 4, threshold: 3, minParties: 7, maxParties: 20 });

  it("SecAgg+ (k = 4, t = 3): 3 parties vanish before advertising; the other 7 form the graph and the sum is exact", () => {
    const inputs = vectors(N, 16, 9);
    const { round } = run(plus("plus-advertise"), inputs, [0, 5, 7], "advertise");
    expect(round.result!.included).toHaveLength(7);
    expectClose(round.result!.sum, plainSum(inputs.filter((_, i) => ![0, 5, 7].includes(i))), round.result!.errorBound);
  });

  for (const at of STEPS.slice(1)) {
    it(`SecAgg+ (k = 4, t = 3): 3 parties chosen from the graph so every holder set keeps t vanish before ${at}; the sum is exact`, () => {
      const cfg = plus(`plus-${at}`);
      const inputs = vectors(N, 16, 9);
      const { round, parties } = setup(cfg);
      drive(round, parties, inputs, { to: "share" });
      const drop = recoverableDrop(round, parties);
      drive(round, parties, inputs, { from: "share", drop, at });
      const included = inputs.filter((_, i) => STEPS.indexOf(at) > STEPS.indexOf("mask") || !drop.has(i));
      expect(round.result!.included).toHaveLength(included.length);
      expectClose(round.result!.sum, plainSum(included), round.result!.errorBound);
    });

    it(`SecAgg+ (k = 4, t = 3): 3 of one party's 4 neighbours vanish before ${at}; the round aborts and releases nothing`, () => {
      const cfg = plus(`plus-abort-${at}`);
      const inputs = vectors(N, 16, 9);
      const { round, parties } = setup(cfg);
      drive(round, parties, inputs, { to: "share" });
      const r = openRoster(cfg, round.roster().advertisements, w.identity(partyName(0)).caPem, Date.now());
      const victim = r.index.get(parties[0]!.id)!;
      const drop = new Set(r.graph.neighbours[victim]!.slice(0, 3).map((h) => parties.findIndex((p) => p.id === r.parties[h]!.party)));
      expect(holdersLeft(round, parties, drop)[0]).toBe(2); // below t: party 0's secrets cannot be rebuilt
      expect(() => drive(round, parties, inputs, { from: "share", drop, at })).toThrow(expect.objectContaining({ code: "SECAGG_ABORTED" }));
      expect(round.result).toBeUndefined();
    });
  }

  it("clipping: values beyond ±c count as ±c", () => {
    const inputs = Array.from({ length: N }, () => Float32Array.from([100, -100, 0.5, 8]));
    const { round } = run(config("clip", { dim: 4 }), inputs);
    expectClose(round.result!.sum, Float64Array.from([80, -80, 5, 80]), round.result!.errorBound);
  });
});

describe("secagg core: a lying aggregator", () => {
  it("asking a survivor for both shares of one peer is refused, and nothing is revealed", () => {
    const { round, parties } = signedRound(config("both"));
    const honest = round.unmaskRequest(parties[0]!.id);
    const victim = parties[3]!.id;
    const evil: UnmaskRequest = { ...honest, dropped: [victim] }; // victim listed as survivor and dropped
    expect(() => parties[0]!.unmask(evil)).toThrow(expect.objectContaining({ code: "SECAGG_UNSAFE_REQUEST" }));
    // the refusal wiped the party: a later "honest-looking" request gets nothing either
    expect(() => parties[0]!.unmask(honest)).toThrow();
  });

  it("a second unmasking request (the other share of a peer, asked separately) is refused", () => {
    const { round, parties } = signedRound(config("twice"));
    const first = round.unmaskRequest(parties[1]!.id);
    const a = parties[1]!.unmask(first);
    expect(a.seeds.length).toBe(N);
    const victim = parties[2]!.id;
    const second: UnmaskRequest = { ...first, survivors: first.survivors.filter((p) => p !== victim), dropped: [victim] };
    expect(() => parties[1]!.unmask(second)).toThrow(expect.objectContaining({ code: "SECAGG_UNSAFE_REQUEST" }));
  });

  it("claiming a peer dropped while calling too few survivors, or calling this party dropped, is refused", () => {
    const { round, parties } = signedRound(config("few"));
    const honest = round.unmaskRequest(parties[0]!.id);
    const all = honest.survivors;
    expect(() => parties[0]!.unmask({ ...honest, survivors: all.slice(0, 5), dropped: all.slice(5) })).toThrow(
      expect.objectContaining({ code: "SECAGG_UNSAFE_REQUEST" }),
    );
    expect(() => parties[5]!.unmask({ ...honest, survivors: all.filter((p) => p !== parties[5]!.id), dropped: [parties[5]!.id] })).toThrow(
      expect.objectContaining({ code: "SECAGG_UNSAFE_REQUEST" }),
    );
    expect(() => parties[6]!.unmask({ ...honest, survivors: all.slice(1), dropped: [] })).toThrow(expect.objectContaining({ code: "SECAGG_UNSAFE_REQUEST" }));
  });

  it("an advertisement replayed from another round is refused by the party", () => {
    const cfgA = config("round-a");
    const cfgB = config("round-b");
    const { round: ra, parties: pa } = setup(cfgA);
    for (const p of pa) ra.advertise(p.id, p.advertise(cfgA));
    ra.close();
    const oldAd = ra.roster().advertisements[4]!; // party 4's advertisement of round a (its keys may be known by then)
    const { round: rb, parties: pb } = setup(cfgB);
    for (const p of pb) rb.advertise(p.id, p.advertise(cfgB));
    rb.close();
    const roster = rb.roster();
    const forged: Roster = { ...roster, advertisements: roster.advertisements.map((a, i) => (i === 4 ? oldAd : a)) };
    expect(() => pb[0]!.shareKeys(forged)).toThrow(expect.objectContaining({ code: "SECAGG_PROTOCOL", message: expect.stringContaining("another round") }));
  });

  it("a substituted key (an advertisement re-signed by someone else, or edited) is refused", () => {
    const cfg = config("subst");
    const { round, parties } = setup(cfg);
    for (const p of parties) round.advertise(p.id, p.advertise(cfg));
    round.close();
    const roster = round.roster();
    const stranger = new Party({ identity: w.identity("stranger") }).advertise(cfg);
    const withCert: Roster = {
      ...roster,
      advertisements: roster.advertisements.map((a, i) => (i === 2 ? { ...a, payload: stranger.payload, sig: stranger.sig } : a)),
    };
    expect(() => parties[0]!.shareKeys(withCert)).toThrow(expect.objectContaining({ code: "SECAGG_PROTOCOL" }));
    const p = JSON.parse(Buffer.from(roster.advertisements[2]!.payload, "base64").toString());
    p.sPk = Buffer.alloc(32, 9).toString("base64");
    const edited: Roster = {
      ...roster,
      advertisements: roster.advertisements.map((a, i) => (i === 2 ? { ...a, payload: Buffer.from(JSON.stringify(p)).toString("base64") } : a)),
    };
    expect(() => parties[1]!.shareKeys(edited)).toThrow(expect.objectContaining({ code: "SECAGG_PROTOCOL", message: expect.stringContaining("signature") }));
  });

  it("a roster announcing a weaker threshold than the party advertised for is refused", () => {
    const cfg = config("weak");
    const { round, parties } = setup(cfg);
    for (const p of parties) round.advertise(p.id, p.advertise(cfg));
    round.close();
    expect(() => parties[0]!.shareKeys({ ...round.roster(), config: { ...cfg, threshold: 2 } })).toThrow(expect.objectContaining({ code: "SECAGG_PROTOCOL" }));
  });

  it("the aggregator refuses another party's advertisement posted as one's own", () => {
    const cfg = config("spoof");
    const { round, parties } = setup(cfg);
    expect(() => round.advertise(parties[1]!.id, parties[0]!.advertise(cfg))).toThrow(expect.objectContaining({ code: "SECAGG_PROTOCOL" }));
  });
});
