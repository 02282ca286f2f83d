/**
 * Messages replayed from another round: two rounds of the same ten identities run side by
 * side, and each message of round A (shares, inbox, consistency request and signatures,
 * unmasking request and answer) is offered to round B — as it is, and with its round field
 * rewritten. The round field is checked (SECAGG_PROTOCOL "another round"); what is rewritten
 * fails on what binds it cryptographically (share AAD and keys, signed payload, seed
 * commitment).
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { RoundConfig } from "../../src/secagg/config.js";
import { type Step, type World, config, drive, makeWorld, partyName, upTo as roundUpTo } from "./harness.js";

let w: World;
const N = 10;
const REPLAY = expect.objectContaining({ code: "SECAGG_PROTOCOL", message: expect.stringContaining("another round") });

beforeAll(async () => {
  w = await makeWorld();
  for (let i = 0; i < N; i++) await w.issue(partyName(i));
}, 60_000);
afterAll(() => w.ks.close());

const upTo = (cfg: RoundConfig, to: Step) => roundUpTo(w, cfg, N, to, 8);

describe("secagg: a message from another round is refused", () => {
  it("ShareKeys: round A's shares message at round B's aggregator, and round A's ciphertext in round B's inbox", () => {
    const a = upTo(config("replay-share-a"), "share");
    const b = upTo(config("replay-share-b"), "share");
    const msgA = a.parties[2]!.shareKeys(a.round.roster());
    expect(() => b.round.shares(b.parties[2]!.id, msgA)).toThrow(REPLAY);
    // relabelled: accepted as a message (the aggregator cannot open shares), refused by the receiver
    b.round.shares(b.parties[2]!.id, { ...msgA, round: "replay-share-b" });
    for (const p of b.parties.filter((_, i) => i !== 2)) b.round.shares(p.id, p.shareKeys(b.round.roster()));
    b.round.close();
    const inbox = b.round.inbox(b.parties[1]!.id);
    expect(inbox.shares.some((s) => s.from === b.parties[2]!.id)).toBe(true);
    expect(() => b.parties[1]!.maskInput(inbox, b.inputs[1]!)).toThrow(
      expect.objectContaining({ code: "SECAGG_PROTOCOL", message: expect.stringContaining("does not authenticate") }),
    );
  });

  it("MaskedInputCollection: round A's inbox given to a party of round B", () => {
    const a = upTo(config("replay-inbox-a"), "mask");
    const b = upTo(config("replay-inbox-b"), "mask");
    expect(() => b.parties[0]!.maskInput(a.round.inbox(a.parties[0]!.id), b.inputs[0]!)).toThrow(REPLAY);
  });

  it("ConsistencyCheck: round A's survivor set, and round A's signatures, in round B", () => {
    const a = upTo(config("replay-sig-a"), "consistency");
    const b = upTo(config("replay-sig-b"), "consistency");
    expect(() => b.parties[0]!.signSurvivors(a.round.consistencyRequest(a.parties[0]!.id))).toThrow(REPLAY);
    const sigA = a.parties[1]!.signSurvivors(a.round.consistencyRequest(a.parties[1]!.id));
    expect(() => b.round.consistency(b.parties[1]!.id, sigA)).toThrow(REPLAY);
    expect(() => b.round.consistency(b.parties[1]!.id, { ...sigA, round: "replay-sig-b" })).toThrow(
      expect.objectContaining({ code: "SECAGG_PROTOCOL", message: expect.stringContaining("does not verify") }),
    );
    // round A's signatures forwarded to a party of round B as if they were B's
    drive(a.round, a.parties.slice(2).concat(a.parties[0]!), a.inputs, { from: "consistency", to: "unmask" });
    const forwarded = a.round.unmaskRequest(a.parties[2]!.id).signatures;
    b.parties[3]!.signSurvivors(b.round.consistencyRequest(b.parties[3]!.id));
    const u3 = b.round.consistencyRequest(b.parties[3]!.id).u3;
    expect(() => b.parties[3]!.unmask({ round: "replay-sig-b", survivors: u3, dropped: [], signatures: forwarded })).toThrow(
      expect.objectContaining({ code: "SECAGG_INCONSISTENT" }),
    );
  });

  it("Unmasking: round A's request given to a party of round B, and round A's answer at round B's aggregator", () => {
    const a = upTo(config("replay-unmask-a"), "unmask");
    const b = upTo(config("replay-unmask-b"), "unmask");
    expect(() => b.parties[0]!.unmask(a.round.unmaskRequest(a.parties[0]!.id))).toThrow(REPLAY);
    const answerA = a.parties[1]!.unmask(a.round.unmaskRequest(a.parties[1]!.id));
    expect(() => b.round.unmask(b.parties[1]!.id, answerA)).toThrow(REPLAY);
    // relabelled and posted first, it is the share the aggregator uses: the seed commitment finds it, nothing wrong is summed
    b.round.unmask(b.parties[1]!.id, { ...answerA, round: "replay-unmask-b" });
    for (const p of b.parties.slice(2)) b.round.unmask(p.id, p.unmask(b.round.unmaskRequest(p.id))); // party 0 refused the replay above and is out
    expect(() => b.round.close()).toThrow(expect.objectContaining({ code: "SECAGG_ABORTED", message: expect.stringMatching(/do not (match|reconstruct)/) }));
    expect(b.round.result).toBeUndefined();
  });
});
