/**
 * Round 0 (AdvertiseKeys, Bonawitz et al. CCS 2017 §5 Figure 4, with the signatures of the
 * actively secure variant, §6.2): a party's public keys, signed with its certificate's key and
 * bound to the round and its configuration; and the check every receiver runs on them.
 */
import type { KeyObject } from "node:crypto";
import { canonicalConfig, type RoundConfig } from "./config.js";
import { SecaggError } from "./errors.js";
import { type PartyIdentity, signPayload, verifyChain, verifyPayload } from "./identity.js";
import { type AdvertisePayload, type Advertisement, TYPES, b64, obj, str, unb64 } from "./wire.js";

/** An advertisement whose chain and signature verified, decoded. */
export interface VerifiedAdvertisement {
  readonly party: string;
  readonly cPk: Buffer;
  readonly sPk: Buffer;
  readonly seedCommit: Buffer;
  /** The certificate's public key: the party's identity key, which also signs its Round 3 consistency signature. */
  readonly publicKey: KeyObject;
  readonly ad: Advertisement;
}

export function makeAdvertisement(id: PartyIdentity, config: RoundConfig, keys: { cPk: Uint8Array; sPk: Uint8Array; seedCommit: Uint8Array }): Advertisement {
  const payload: AdvertisePayload = {
    type: "advertise",
    round: config.round,
    party: id.spiffeId,
    config: canonicalConfig(config),
    cPk: b64(keys.cPk),
    sPk: b64(keys.sPk),
    seedCommit: b64(keys.seedCommit),
  };
  const bytes = Buffer.from(JSON.stringify(payload), "utf8");
  return { cert: id.certPem, payload: b64(bytes), sig: b64(signPayload(id.key, TYPES.advertise, bytes)) };
}

/**
 * Verifies one advertisement for `config`'s round: the certificate chains to `caPem` and is
 * valid at `nowMs`; the signature verifies under it; the payload names the certificate's
 * SPIFFE ID, this round and exactly this configuration. An advertisement from another
 * round (a replay) or signed by another party is refused.
 * @throws SecaggError(SECAGG_PROTOCOL)
 */
export function verifyAdvertisement(ad: Advertisement, config: RoundConfig, caPem: string, nowMs: number): VerifiedAdvertisement {
  const { spiffeId, publicKey } = verifyChain(ad.cert, caPem, nowMs);
  const bytes = unb64(ad.payload, "advertisement payload");
  verifyPayload(publicKey, TYPES.advertise, bytes, unb64(ad.sig, "advertisement signature"), `the advertisement of ${spiffeId}`);
  let p: Record<string, unknown>;
  try {
    p = obj(JSON.parse(bytes.toString("utf8")), "advertisement payload");
  } catch (e) {
    throw e instanceof SecaggError ? e : new SecaggError("SECAGG_PROTOCOL", "advertisement payload: not JSON");
  }
  if (p.type !== "advertise") throw new SecaggError("SECAGG_PROTOCOL", "advertisement payload: wrong type");
  if (p.party !== spiffeId) throw new SecaggError("SECAGG_PROTOCOL", `an advertisement names ${String(p.party).slice(0, 100)} but is signed by ${spiffeId}`);
  if (p.round !== config.round) throw new SecaggError("SECAGG_PROTOCOL", `the advertisement of ${spiffeId} belongs to another round (a replay)`);
  if (p.config !== canonicalConfig(config)) throw new SecaggError("SECAGG_PROTOCOL", `the advertisement of ${spiffeId} was made for other round parameters`);
  return {
    party: str(p.party, "party"),
    cPk: unb64(p.cPk, "cPk", 32),
    sPk: unb64(p.sPk, "sPk", 32),
    seedCommit: unb64(p.seedCommit, "seed commitment", 32),
    publicKey,
    ad,
  };
}
