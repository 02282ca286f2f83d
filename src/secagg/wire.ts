/**
 * The messages of a round (Bonawitz et al. CCS 2017 §5, Figure 4) as JSON, binary fields in
 * base64, and the checks that turn untrusted JSON into typed values. Signed payloads travel
 * as the exact bytes that were signed (DSSE style): nothing is re-serialized before a
 * signature is checked.
 */
import { createHash } from "node:crypto";
import { SecaggError } from "./errors.js";
import type { RoundConfig } from "./config.js";

/** DSSE payload types: a signature over one can never verify as another. */
export const TYPES = {
  advertise: "application/vnd.pipeseal.secagg.advertise.v1+json",
  consistency: "application/vnd.pipeseal.secagg.consistency.v1+json",
} as const;

/** Round 0 (AdvertiseKeys): a party's two public keys and seed commitment, signed with its certificate's key. */
export interface Advertisement {
  /** The party's certificate chain (PEM, leaf first). */
  readonly cert: string;
  /** base64 of the signed JSON (`AdvertisePayload`). */
  readonly payload: string;
  /** base64 signature over PAE(TYPES.advertise, payload). */
  readonly sig: string;
}

export interface AdvertisePayload {
  readonly type: "advertise";
  readonly round: string;
  readonly party: string;
  /** canonicalConfig(config): the round parameters this party agreed to. */
  readonly config: string;
  /** X25519 key for share encryption (c_u^PK). */
  readonly cPk: string;
  /** X25519 key for pairwise masks (s_u^PK). */
  readonly sPk: string;
  /** seedCommitment(round, party, b_u). */
  readonly seedCommit: string;
}

/** What the aggregator forwards after Round 0: the config and the advertisements, sorted by party. */
export interface Roster {
  readonly config: RoundConfig;
  readonly advertisements: readonly Advertisement[];
}

/** Round 1 (ShareKeys): one encrypted pair of shares per holder. */
export interface EncryptedShare {
  readonly from: string;
  readonly to: string;
  /** base64 of AES-256-GCM iv ‖ ciphertext ‖ tag over s-share ‖ b-share. */
  readonly ct: string;
}

export interface SharesMessage {
  readonly round: string;
  readonly from: string;
  readonly shares: readonly EncryptedShare[];
}

/** After Round 1: U2 (who shared) and the shares addressed to the receiving party. */
export interface Inbox {
  readonly round: string;
  readonly u2: readonly string[];
  readonly shares: readonly EncryptedShare[];
}

/** Round 3 request (ConsistencyCheck): the survivor set U3 (who sent a masked vector), for every member of U3 to sign. */
export interface ConsistencyRequest {
  readonly round: string;
  readonly u3: readonly string[];
}

/** A party's signature over consistencyPayload(round, roster digest, U3), with its certificate's key. */
export interface ConsistencySignature {
  readonly from: string;
  /** base64 signature over PAE(TYPES.consistency, payload). */
  readonly sig: string;
}

/** Round 3 answer: the party's signature over the U3 it was shown. */
export interface ConsistencyMessage extends ConsistencySignature {
  readonly round: string;
}

/**
 * Round 4 request (Unmasking): who sent a masked vector (U3) and who did not (U2 \ U3), with
 * the Round 3 signatures over U3 of at least t members of U3 (U4), which every party checks
 * before it reveals a share.
 */
export interface UnmaskRequest {
  readonly round: string;
  readonly survivors: readonly string[];
  readonly dropped: readonly string[];
  readonly signatures: readonly ConsistencySignature[];
}

export interface RevealedShare {
  /** The party whose secret this is a share of. */
  readonly of: string;
  /** base64 of the 66-byte field element. */
  readonly y: string;
}

/** Round 4 answer: shares of b_v for survivors, of s_v^SK for dropped parties, never both for one v. */
export interface UnmaskResponse {
  readonly round: string;
  readonly from: string;
  readonly seeds: readonly RevealedShare[];
  readonly keys: readonly RevealedShare[];
}

export const b64 = (b: Uint8Array): string => Buffer.from(b).toString("base64");

/** Strict base64 (canonical, optional exact length). @throws SecaggError(SECAGG_PROTOCOL) */
export function unb64(s: unknown, what: string, length?: number): Buffer {
  if (typeof s !== "string" || !/^[A-Za-z0-9+/]*={0,2}$/.test(s)) throw new SecaggError("SECAGG_PROTOCOL", `${what}: not base64`);
  const b = Buffer.from(s, "base64");
  if (b.toString("base64") !== s || (length !== undefined && b.length !== length))
    throw new SecaggError("SECAGG_PROTOCOL", `${what}: wrong encoding or length`);
  return b;
}

export function str(v: unknown, what: string, max = 512): string {
  if (typeof v !== "string" || v.length === 0 || v.length > max) throw new SecaggError("SECAGG_PROTOCOL", `${what}: expected a string`);
  return v;
}

export function list(v: unknown, what: string, max = 100_000): unknown[] {
  if (!Array.isArray(v) || v.length > max) throw new SecaggError("SECAGG_PROTOCOL", `${what}: expected a list`);
  return v;
}

export function obj(v: unknown, what: string): Record<string, unknown> {
  if (!v || typeof v !== "object" || Array.isArray(v)) throw new SecaggError("SECAGG_PROTOCOL", `${what}: expected an object`);
  return v as Record<string, unknown>;
}

export function stringList(v: unknown, what: string): string[] {
  const out = list(v, what).map((s) => str(s, what));
  if (new Set(out).size !== out.length) throw new SecaggError("SECAGG_PROTOCOL", `${what}: a party is listed twice`);
  return out;
}

export function parseAdvertisement(v: unknown): Advertisement {
  const o = obj(v, "advertisement");
  return {
    cert: str(o.cert, "advertisement cert", 64 * 1024),
    payload: str(o.payload, "advertisement payload", 16 * 1024),
    sig: str(o.sig, "advertisement signature", 1024),
  };
}

export function parseEncryptedShare(v: unknown): EncryptedShare {
  const o = obj(v, "share");
  return { from: str(o.from, "share from"), to: str(o.to, "share to"), ct: str(o.ct, "share ciphertext", 1024) };
}

export function parseShares(v: unknown): SharesMessage {
  const o = obj(v, "shares message");
  return { round: str(o.round, "round"), from: str(o.from, "from"), shares: list(o.shares, "shares").map(parseEncryptedShare) };
}

export function parseInbox(v: unknown): Inbox {
  const o = obj(v, "inbox");
  return { round: str(o.round, "round"), u2: stringList(o.u2, "U2"), shares: list(o.shares, "shares").map(parseEncryptedShare) };
}

export function parseConsistencyRequest(v: unknown): ConsistencyRequest {
  const o = obj(v, "consistency request");
  return { round: str(o.round, "round"), u3: stringList(o.u3, "U3") };
}

function parseSignature(v: unknown): ConsistencySignature {
  const o = obj(v, "consistency signature");
  return { from: str(o.from, "signature from"), sig: str(o.sig, "consistency signature", 1024) };
}

export function parseConsistency(v: unknown): ConsistencyMessage {
  const o = obj(v, "consistency message");
  return { round: str(o.round, "round"), ...parseSignature(o) };
}

export function parseUnmaskRequest(v: unknown): UnmaskRequest {
  const o = obj(v, "unmask request");
  return {
    round: str(o.round, "round"),
    survivors: stringList(o.survivors, "survivors"),
    dropped: stringList(o.dropped, "dropped"),
    signatures: list(o.signatures, "signatures").map(parseSignature),
  };
}

function parseRevealed(v: unknown): RevealedShare {
  const o = obj(v, "revealed share");
  return { of: str(o.of, "share of"), y: str(o.y, "share value", 128) };
}

export function parseUnmaskResponse(v: unknown): UnmaskResponse {
  const o = obj(v, "unmask response");
  return {
    round: str(o.round, "round"),
    from: str(o.from, "from"),
    seeds: list(o.seeds, "seeds").map(parseRevealed),
    keys: list(o.keys, "keys").map(parseRevealed),
  };
}

/**
 * The roster digest: SHA-256 over the config and each advertisement's certificate, payload
 * and signature, length-prefixed. Every key derivation of the round is salted with it, so
 * parties shown different rosters derive unrelated keys (their masks do not cancel: the
 * round fails, it does not leak).
 */
export function rosterDigest(configJson: string, ads: readonly Advertisement[]): Buffer {
  const h = createHash("sha256").update("pipeseal/secagg/v1 roster\0");
  const part = (s: string) => {
    const b = Buffer.from(s, "utf8");
    const len = Buffer.alloc(4);
    len.writeUInt32BE(b.length);
    h.update(len).update(b);
  };
  part(configJson);
  for (const a of ads) [a.cert, a.payload, a.sig].forEach(part);
  return h.digest();
}

/** The associated data of an encrypted share: round, sender, receiver and roster, so a share cannot move between any of them. */
export function shareAad(round: string, from: string, to: string, digest: Uint8Array): Buffer {
  return Buffer.concat([Buffer.from(`pipeseal/secagg/v1 share\0${round}\0${from}\0${to}\0`), digest]);
}
