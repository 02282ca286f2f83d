/** The protocol core in-process: correctness in both graph modes, and the attacks a lying aggregator can try on a party. */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { Party } from "../../src/secagg/party.js";
import { AggregatorRound } from "../../src/secagg/round.js";
import { wordsToBytes } from "../../src/secagg/prg.js";
import type { RoundConfig } from "../../src/secagg/config.js";
import type { Roster, UnmaskRequest } from "../../src/secagg/wire.js";
import { type World, config, makeWorld, partyName, plainSum, vectors } from "./harness.js";

let w: World;
const N = 10;

beforeAll(async () => {
  w = await makeWorld();
  for (let i = 0; i < N; i++) await w.issue(partyName(i));
  await w.issue("stranger", "dev");
}, 60_000);
afterAll(() => w.ks.close());

type Step = "advertise" | "share" | "mask" | "unmask";
const ORDER: Step[] = ["advertise", "share", "mask", "unmask"];

function setup(cfg: RoundConfig) {
  const caPem = w.identity(partyName(0)).caPem;
  const round = new AggregatorRound({ config: cfg, caPem });
  const parties = Array.from({ length: N }, (_, i) => new Party({ identity: w.identity(partyName(i)) }));
  return { round, parties };
}

/** Runs a round in-process; parties in `drop` vanish before step `at`. */
function run(cfg: RoundConfig, inputs: Float32Array[], drop: number[] = [], at?: Step) {
  const { round, parties } = setup(cfg);
  const live = (step: Step) => parties.filter((_, i) => !(drop.includes(i) && at !== undefined && ORDER.indexOf(at) <= ORDER.indexOf(step)));
  for (const p of live("advertise")) round.advertise(p.id, p.advertise(cfg));
  round.close();
  for (const p of live("share")) round.shares(p.id, p.shareKeys(round.roster()));
  round.close();
  for (const p of live("mask")) round.masked(p.id, wordsToBytes(p.maskInput(round.inbox(p.id), inputs[parties.indexOf(p)]!)));
  round.close();
  for (const p of live("unmask")) round.unmask(p.id, p.unmask(round.unmaskRequest(p.id)));
  round.close();
  return { round, parties };
}

/** A round up to the masked inputs, for attacks on the unmasking step. */
function maskedRound(cfg: RoundConfig) {
  const { round, parties } = setup(cfg);
  const inputs = vectors(N, cfg.dim, 5);
  for (const p of parties) round.advertise(p.id, p.advertise(cfg));
  round.close();
  for (const p of parties) round.shares(p.id, p.shareKeys(round.roster()));
  round.close();
  for (const p of parties) round.masked(p.id, wordsToBytes(p.maskInput(round.inbox(p.id), inputs[parties.indexOf(p)]!)));
  round.close();
  return { round, parties, inputs };
}

function expectClose(got: Float64Array, want: Float64Array, bound: number): void {
  for (let i = 0; i < want.length; i++) expect(Math.abs(got[i]! - want[i]!)).toBeLessThanOrEqual(bound + 1e-9);
}

describe("secagg core: correctness", () => {
  it("full graph, 10 parties: the plain sum within the quantization bound", () => {
    const inputs = vectors(N, 16);
    const { round } = run(config("r1"), inputs);
    expectClose(round.result!.sum, plainSum(inputs), round.result!.errorBound);
  });

  for (const at of ORDER) {
    it(`SecAgg+ (k = 4, t = 3): 3 parties vanish before ${at}; the survivors' sum is exact`, () => {
      const cfg = config(`plus-${at}`, { graph: "plus", neighbours: 4, threshold: 3, minParties: 7, maxParties: 20 });
      const inputs = vectors(N, 16, 9);
      const drop = [0, 5, 7];
      try {
        const { round } = run(cfg, inputs, drop, at);
        const included = inputs.filter((_, i) => at === "unmask" || !drop.includes(i));
        expect(round.result!.included).toHaveLength(included.length);
        expectClose(round.result!.sum, plainSum(included), round.result!.errorBound);
      } catch (e) {
        // in a sparse graph three dropouts may all be neighbours of one party: then that party's
        // holders fall below t and the round must abort rather than release a wrong sum
        expect((e as { code?: string }).code).toBe("SECAGG_ABORTED");
      }
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
    const { round, parties } = maskedRound(config("both"));
    const honest = round.unmaskRequest(parties[0]!.id);
    const victim = parties[3]!.id;
    const evil: UnmaskRequest = { ...honest, dropped: [victim] }; // victim listed as survivor and dropped
    expect(() => parties[0]!.unmask(evil)).toThrow(expect.objectContaining({ code: "SECAGG_UNSAFE_REQUEST" }));
    // the refusal wiped the party: a later "honest-looking" request gets nothing either
    expect(() => parties[0]!.unmask(honest)).toThrow();
  });

  it("a second unmasking request (the other share of a peer, asked separately) is refused", () => {
    const { round, parties } = maskedRound(config("twice"));
    const first = round.unmaskRequest(parties[1]!.id);
    const a = parties[1]!.unmask(first);
    expect(a.seeds.length).toBe(N);
    const victim = parties[2]!.id;
    const second: UnmaskRequest = { round: first.round, survivors: first.survivors.filter((p) => p !== victim), dropped: [victim] };
    expect(() => parties[1]!.unmask(second)).toThrow(expect.objectContaining({ code: "SECAGG_UNSAFE_REQUEST" }));
  });

  it("claiming a peer dropped while calling too few survivors, or calling this party dropped, is refused", () => {
    const { round, parties } = maskedRound(config("few"));
    const honest = round.unmaskRequest(parties[0]!.id);
    const all = honest.survivors;
    expect(() => parties[0]!.unmask({ ...honest, survivors: all.slice(0, 5), dropped: all.slice(5) })).toThrow(expect.objectContaining({ code: "SECAGG_UNSAFE_REQUEST" }));
    expect(() => parties[5]!.unmask({ ...honest, survivors: all.filter((p) => p !== parties[5]!.id), dropped: [parties[5]!.id] })).toThrow(expect.objectContaining({ code: "SECAGG_UNSAFE_REQUEST" }));
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
    const withCert: Roster = { ...roster, advertisements: roster.advertisements.map((a, i) => (i === 2 ? { ...a, payload: stranger.payload, sig: stranger.sig } : a)) };
    expect(() => parties[0]!.shareKeys(withCert)).toThrow(expect.objectContaining({ code: "SECAGG_PROTOCOL" }));
    const p = JSON.parse(Buffer.from(roster.advertisements[2]!.payload, "base64").toString());
    p.sPk = Buffer.alloc(32, 9).toString("base64");
    const edited: Roster = { ...roster, advertisements: roster.advertisements.map((a, i) => (i === 2 ? { ...a, payload: Buffer.from(JSON.stringify(p)).toString("base64") } : a)) };
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
