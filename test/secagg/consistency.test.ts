/**
 * Round 3, ConsistencyCheck (Bonawitz et al. 2017 Figure 4), attacked in-process: a
 * malicious aggregator runs the real round up to the masked inputs and then plays Round 3
 * and Round 4 itself — split views of U3, forged, missing, duplicated or foreign signatures.
 * Every honest party must refuse before it reveals a share; each test fails if the check is
 * removed from party.ts (the party would answer).
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { RoundConfig } from "../../src/secagg/config.js";
import { consistencyPayload, signConsistency } from "../../src/secagg/consistency.js";
import { openRoster } from "../../src/secagg/roster.js";
import type { ConsistencyMessage, UnmaskRequest } from "../../src/secagg/wire.js";
import { type Step, type World, config, makeWorld, partyName, upTo as roundUpTo } from "./harness.js";

let w: World;
const N = 10;
const T = 6;
const INCONSISTENT = expect.objectContaining({ code: "SECAGG_INCONSISTENT" });

beforeAll(async () => {
  w = await makeWorld();
  for (let i = 0; i < N; i++) await w.issue(partyName(i));
}, 60_000);
afterAll(() => w.ks.close());

const upTo = (cfg: RoundConfig, to: Step) => roundUpTo(w, cfg, N, to, 4);

const without = (list: readonly string[], p: string) => list.filter((x) => x !== p);

describe("ConsistencyCheck: a split view of the survivor set", () => {
  for (const forward of ["every signature", "only the signatures of the party's own view"] as const) {
    it(`parties shown different U3 (the aggregator forwards ${forward}) all refuse, and the round aborts`, () => {
      const { round, parties } = upTo(config(`split-${forward.length}`), "consistency");
      const u3 = round.consistencyRequest(parties[0]!.id).u3;
      expect(u3).toHaveLength(N);
      // the goal: parties 0–4 are told the victim survived (they would reveal its seed share),
      // parties 5–9 that it dropped (they would reveal its mask-key share)
      const victim = parties[0]!.id;
      const viewOf = (i: number) => (i < 5 ? u3 : without(u3, victim));
      const sigs: ConsistencyMessage[] = parties.map((p, i) => p.signSurvivors({ round: round.config.round, u3: viewOf(i) }));
      const requests = parties.map((_, i): UnmaskRequest => ({
        round: round.config.round,
        survivors: viewOf(i),
        dropped: i < 5 ? [] : [victim],
        signatures: (forward === "every signature" ? sigs : sigs.filter((_, j) => j < 5 === i < 5)).map(({ from, sig }) => ({ from, sig })),
      }));
      const answers = parties.map((p, i) => {
        try {
          return p.unmask(requests[i]!);
        } catch (e) {
          expect(e).toEqual(INCONSISTENT);
          return undefined;
        }
      });
      expect(answers.filter(Boolean)).toEqual([]); // no share of the victim (or anyone) left any party
      // the honest round code sees the same: the other view's signatures do not verify, too few signed, abort
      for (let i = 0; i < N; i++) {
        if (i < 5) round.consistency(parties[i]!.id, sigs[i]!);
        else
          expect(() => round.consistency(parties[i]!.id, sigs[i]!)).toThrow(
            expect.objectContaining({ code: "SECAGG_PROTOCOL", message: expect.stringContaining("does not verify") }),
          );
      }
      expect(() => round.close()).toThrow(expect.objectContaining({ code: "SECAGG_ABORTED" }));
      expect(round.summary()).toMatchObject({
        step: "aborted",
        abort: { step: "consistency" },
        signed: parties
          .slice(0, 5)
          .map((p) => p.id)
          .sort(),
        unmasked: [],
      });
      expect(round.result).toBeUndefined();
    });
  }
});

describe("ConsistencyCheck: the forwarded signatures", () => {
  it("a forged signature (another signer's, a flipped bit, another round's) is refused; the genuine set is answered", () => {
    const { round, parties } = upTo(config("forged"), "unmask");
    const honest = round.unmaskRequest(parties[0]!.id);
    expect(honest.signatures).toHaveLength(T); // the aggregator forwards a quorum, not all of U4
    const replace = (i: number, sig: string): UnmaskRequest => ({ ...honest, signatures: honest.signatures.map((s, j) => (j === i ? { ...s, sig } : s)) });
    const flipped = Buffer.from(honest.signatures[3]!.sig, "base64");
    flipped[flipped.length - 1]! ^= 1;
    const r = openRoster(round.config, round.roster().advertisements, w.identity(partyName(0)).caPem, Date.now());
    const otherRound = signConsistency(w.identity(partyName(3)).key, consistencyPayload("another-round", r.digest, honest.survivors));
    expect(() => parties[0]!.unmask(replace(3, honest.signatures[4]!.sig))).toThrow(INCONSISTENT);
    expect(() => parties[1]!.unmask(replace(3, flipped.toString("base64")))).toThrow(INCONSISTENT);
    expect(() => parties[2]!.unmask(replace(3, otherRound))).toThrow(INCONSISTENT);
    // the control: the same party code answers the genuine request
    const ok = parties[5]!.unmask(round.unmaskRequest(parties[5]!.id));
    expect(ok.seeds).toHaveLength(N);
  });

  it("missing signatures: t − 1 are refused, so is t − 1 padded with a duplicate or a non-member; exactly t are answered", () => {
    const { round, parties } = upTo(config("missing"), "unmask");
    const honest = round.unmaskRequest(parties[0]!.id);
    const sigs = honest.signatures;
    expect(() => parties[0]!.unmask({ ...honest, signatures: sigs.slice(0, T - 1) })).toThrow(
      expect.objectContaining({ code: "SECAGG_INCONSISTENT", message: expect.stringContaining(`${T - 1} parties signed`) }),
    );
    expect(() => parties[1]!.unmask({ ...honest, signatures: [...sigs.slice(0, T - 1), sigs[0]!] })).toThrow(
      expect.objectContaining({ code: "SECAGG_INCONSISTENT", message: expect.stringContaining("twice") }),
    );
    expect(() =>
      parties[2]!.unmask({ ...honest, signatures: [...sigs.slice(0, T - 1), { from: "spiffe://acme.ml/prod/stranger", sig: sigs[T - 1]!.sig }] }),
    ).toThrow(INCONSISTENT);
    expect(() => parties[3]!.unmask({ ...honest, signatures: [] })).toThrow(INCONSISTENT);
    expect(parties[4]!.unmask({ ...honest, signatures: sigs.slice(0, T) }).seeds).toHaveLength(N);
  });

  it("SecAgg+: t signatures overall, but fewer than t from the holders of a peer whose share the party holds, are refused", () => {
    const cfg = config("plus-quorum", { graph: "plus", neighbours: 4, threshold: 3, minParties: 7, maxParties: 20 });
    const { round, parties } = upTo(cfg, "unmask");
    const r = openRoster(cfg, round.roster().advertisements, w.identity(partyName(0)).caPem, Date.now());
    const me = r.index.get(parties[0]!.id)!;
    const neighbours = new Set(r.graph.neighbours[me]!.map((h) => r.parties[h]!.party));
    const honest = round.unmaskRequest(parties[0]!.id);
    // every party's genuine signature over U3 (each signed exactly this payload in Round 3; ECDSA is randomized, so re-made with its key)
    const payload = consistencyPayload(cfg.round, r.digest, honest.survivors);
    const every = parties.map((p, i) => ({ from: p.id, sig: signConsistency(w.identity(partyName(i)).key, payload) }));
    const far = every.filter((s) => !neighbours.has(s.from)); // 6 signers: ≥ t overall, but of party 0's holders only itself
    expect(far.length).toBeGreaterThanOrEqual(cfg.threshold);
    expect(() => parties[0]!.unmask({ ...honest, signatures: far })).toThrow(
      expect.objectContaining({ code: "SECAGG_INCONSISTENT", message: expect.stringContaining("holders") }),
    );
    expect(parties[1]!.unmask(round.unmaskRequest(parties[1]!.id)).seeds.length).toBe(cfg.neighbours + 1);
  });

  it("an unmasking request naming other survivors than the U3 the party signed is refused, even with valid signatures", () => {
    const { round, parties } = upTo(config("other-u3"), "unmask");
    const honest = round.unmaskRequest(parties[0]!.id);
    const victim = parties[7]!.id;
    expect(() => parties[0]!.unmask({ ...honest, survivors: without(honest.survivors, victim), dropped: [victim] })).toThrow(INCONSISTENT);
  });
});

describe("ConsistencyCheck: the party signs once, and only a sane U3", () => {
  it("a second survivor set to sign is refused and the party wipes its secrets", () => {
    const { round, parties } = upTo(config("sign-twice"), "consistency");
    const req = round.consistencyRequest(parties[0]!.id);
    parties[0]!.signSurvivors(req);
    expect(() => parties[0]!.signSurvivors({ ...req, u3: without(req.u3, parties[9]!.id) })).toThrow(INCONSISTENT);
    expect(parties[0]!.step).toBe("failed");
  });

  it("an unmasking request before the consistency check is refused", () => {
    const { round, parties } = upTo(config("skip-check"), "consistency");
    const u3 = round.consistencyRequest(parties[0]!.id).u3;
    expect(() => parties[0]!.unmask({ round: round.config.round, survivors: u3, dropped: [], signatures: [] })).toThrow(INCONSISTENT);
  });

  it("a U3 outside U2, without the party, or smaller than t is not signed", () => {
    const { round, parties } = upTo(config("bad-u3"), "consistency");
    const req = round.consistencyRequest(parties[0]!.id);
    expect(() => parties[0]!.signSurvivors({ ...req, u3: [...req.u3.slice(1), "spiffe://acme.ml/prod/stranger"] })).toThrow(
      expect.objectContaining({ code: "SECAGG_PROTOCOL" }),
    );
    expect(() => parties[1]!.signSurvivors({ ...req, u3: without(req.u3, parties[1]!.id) })).toThrow(expect.objectContaining({ code: "SECAGG_PROTOCOL" }));
    expect(() => parties[2]!.signSurvivors({ ...req, u3: req.u3.slice(0, T - 1) })).toThrow(expect.objectContaining({ code: "SECAGG_UNSAFE_REQUEST" }));
    expect(parties[3]!.signSurvivors(req).from).toBe(parties[3]!.id);
  });
});
