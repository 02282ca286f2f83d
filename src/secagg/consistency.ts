/**
 * Round 3, ConsistencyCheck (Bonawitz et al. CCS 2017 §5 Figure 4, actively secure variant
 * §6.2): every survivor signs the survivor set U3 it was shown with its identity key (the
 * certificate key that signed its advertisement); before it reveals any share in Round 4 a
 * party checks that at least t members of U3 signed exactly the U3 it signed. Honest parties
 * sign once, so an aggregator that shows different parties different survivor sets (to learn
 * a victim's seed share from some holders and its mask-key share from others) cannot gather
 * t signatures for both views from the victim's holders while 2t exceeds them.
 *
 * The rules live here once; the party (party.ts) and the aggregator (round.ts) both call them.
 */
import type { KeyObject } from "node:crypto";
import { createHash } from "node:crypto";
import { SecaggError } from "./errors.js";
import { signPayload, verifyPayload } from "./identity.js";
import type { OpenRoster } from "./roster.js";
import { type ConsistencySignature, TYPES, b64, unb64 } from "./wire.js";

/** The signed bytes: round id, roster digest and U3 (sorted, so every party signs the same bytes for the same set). */
export function consistencyPayload(round: string, rosterDigest: Uint8Array, u3: Iterable<string>): Buffer {
  const sorted = [...u3].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
  return Buffer.from(JSON.stringify({ type: "consistency", round, roster: b64(rosterDigest), u3: sorted }), "utf8");
}

/** SHA-256 (hex) of the payload: what the audit record names, so a party's evidence can be matched to it. */
export function consistencyDigest(payload: Uint8Array): string {
  return createHash("sha256").update(payload).digest("hex");
}

/** σ'_u = SIG.sign(d_u^SK, U3) as DSSE PAE(TYPES.consistency, payload) (Figure 4, Round 3, user side). */
export function signConsistency(key: KeyObject, payload: Uint8Array): string {
  return b64(signPayload(key, TYPES.consistency, payload));
}

/** @throws SecaggError(SECAGG_PROTOCOL) when `sig` is not `signer`'s signature over `payload`. */
export function verifyConsistency(r: OpenRoster, signer: string, payload: Uint8Array, sig: string): void {
  const i = r.index.get(signer);
  if (i === undefined) throw new SecaggError("SECAGG_PROTOCOL", `${signer} is not in the roster`);
  verifyPayload(r.parties[i].publicKey, TYPES.consistency, payload, unb64(sig, "consistency signature"), `the consistency signature of ${signer}`);
}

/**
 * The quorum rule: for every party in `of` (whose shares someone is about to reveal), at
 * least t of its holders (all parties in the full graph, its k neighbours and itself in
 * SecAgg+) are among the signers. In the full graph that is |U4| ≥ t of the paper; in SecAgg+
 * it is the same bound per holder set. It costs no liveness: a secret of a party with fewer
 * than t signing holders could not be reconstructed in Round 4 anyway (only signers are asked).
 * Returns the first party that lacks its quorum, or undefined.
 */
export function lackingQuorum(r: OpenRoster, of: Iterable<string>, signers: ReadonlySet<string>): { party: string; signed: number } | undefined {
  for (const p of of) {
    const signed = r.graph.holders[r.index.get(p)!].filter((h) => signers.has(r.parties[h].party)).length;
    if (signed < r.config.threshold) return { party: p, signed };
  }
  return undefined;
}

/**
 * The signatures the aggregator forwards to one party: a subset of `signers` (U4, in order)
 * that meets the quorum rule for `of` (the parties whose shares that party holds), reusing
 * signers greedily — t in the full graph, at most t per held peer in SecAgg+ — so a party
 * verifies about t signatures, not |U4|. Any such subset is as good as all of U4: each
 * signature must be over the U3 the party signed.
 */
export function quorumFor(r: OpenRoster, of: Iterable<string>, signers: readonly string[]): string[] {
  const signing = new Set(signers);
  const chosen = new Set<string>();
  for (const p of of) {
    const holders = r.graph.holders[r.index.get(p)!].map((h) => r.parties[h].party).filter((h) => signing.has(h));
    let have = holders.filter((h) => chosen.has(h)).length;
    for (const h of holders) {
      if (have >= r.config.threshold) break;
      if (!chosen.has(h)) {
        chosen.add(h);
        have++;
      }
    }
  }
  return signers.filter((s) => chosen.has(s));
}

/**
 * The party's check before Round 4 (Figure 4, Round 4, user side: "U4 ⊆ U3, |U4| ≥ t, and
 * SIG.ver(d_v^PK, U3, σ'_v) succeeds for all v ∈ U4"): each signer is a distinct member of
 * `u3`, each signature verifies over this party's `payload` under the signer's roster
 * certificate, and the quorum rule holds for `held` (the parties whose shares this party
 * holds, itself included). A signature over another survivor set fails to verify, so a split
 * view is refused like a forged signature.
 * @throws SecaggError(SECAGG_INCONSISTENT)
 */
export function checkSignatures(
  r: OpenRoster,
  u3: ReadonlySet<string>,
  payload: Uint8Array,
  signatures: readonly ConsistencySignature[],
  held: Iterable<string>,
): void {
  const refuse = (m: string): never => {
    throw new SecaggError("SECAGG_INCONSISTENT", `consistency check failed: ${m}; nothing was revealed`);
  };
  const signers = new Set<string>();
  for (const s of signatures) {
    if (!u3.has(s.from)) refuse(`${s.from.slice(0, 200)} signed but is not in the survivor set U3 this party signed`);
    if (signers.has(s.from)) refuse(`${s.from} is listed twice among the signers`);
    try {
      verifyConsistency(r, s.from, payload, s.sig);
    } catch {
      refuse(`the signature of ${s.from} does not verify over the survivor set U3 this party signed (a forged signature, or a different U3 shown to it)`);
    }
    signers.add(s.from);
  }
  if (signers.size < r.config.threshold) refuse(`${signers.size} parties signed U3; at least t = ${r.config.threshold} must`);
  const short = lackingQuorum(r, held, signers);
  if (short) refuse(`only ${short.signed} holders of ${short.party}'s shares signed U3; t = ${r.config.threshold} must`);
}
