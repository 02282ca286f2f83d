import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { Party } from "../../src/secagg/party.js";
import { AggregatorRound } from "../../src/secagg/round.js";
import { wordsToBytes } from "../../src/secagg/prg.js";
import type { RoundConfig } from "../../src/secagg/config.js";
import { type World, config, makeWorld, partyName, plainSum, vectors } from "./harness.js";

let w: World;
const N = 10;

beforeAll(async () => {
  w = await makeWorld();
  for (let i = 0; i < N; i++) await w.issue(partyName(i));
}, 60_000);
afterAll(() => w.ks.close());

type Stop = "advertise" | "share" | "mask" | "unmask" | null;

/** Runs a round in-process; parties in `drop` stop before the step `at`. */
function run(cfg: RoundConfig, inputs: Float32Array[], drop: number[] = [], at: Stop = null) {
  const caPem = w.identity(partyName(0)).caPem;
  const round = new AggregatorRound({ config: cfg, caPem });
  const parties = inputs.map((_, i) => new Party({ identity: w.identity(partyName(i)) }));
  const live = (step: Stop) => parties.filter((_, i) => !(at === step && drop.includes(i)) && !(dropBefore(at, step) && drop.includes(i)));
  for (const p of live("advertise")) round.advertise(p.id, p.advertise(cfg));
  round.close();
  for (const p of live("share")) round.shares(p.id, p.shareKeys(round.roster()));
  round.close();
  for (const p of live("mask")) round.masked(p.id, wordsToBytes(p.maskInput(round.inbox(p.id), inputs[parties.indexOf(p)]!)));
  round.close();
  for (const p of live("unmask")) round.unmask(p.id, p.unmask(round.unmaskRequest(p.id)));
  round.close();
  return { round, included: live("unmask").map((p) => parties.indexOf(p)) };
}

const ORDER: Stop[] = ["advertise", "share", "mask", "unmask"];
function dropBefore(at: Stop, step: Stop): boolean {
  return at !== null && ORDER.indexOf(at) < ORDER.indexOf(step);
}

describe("secagg core (in-process)", () => {
  it("sums 10 parties within the quantization bound", () => {
    const inputs = vectors(N, 16);
    const { round } = run(config("r1"), inputs);
    const want = plainSum(inputs);
    const got = round.result!.sum;
    for (let i = 0; i < want.length; i++) expect(Math.abs(got[i]! - want[i]!)).toBeLessThanOrEqual(round.result!.errorBound + 1e-9);
  });
});
