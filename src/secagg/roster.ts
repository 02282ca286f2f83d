/**
 * A roster as both sides use it: the verified advertisements in canonical order (sorted by
 * SPIFFE ID; a party's index in that order is its Shamir x − 1 and decides the sign of each
 * pairwise mask), the roster digest and the masking graph.
 */
import { type VerifiedAdvertisement, verifyAdvertisement } from "./advertise.js";
import { canonicalConfig, type RoundConfig } from "./config.js";
import { SecaggError } from "./errors.js";
import { type Graph, buildGraph } from "./graph.js";
import { type Advertisement, rosterDigest } from "./wire.js";

export interface OpenRoster {
  readonly config: RoundConfig;
  readonly parties: readonly VerifiedAdvertisement[];
  readonly index: ReadonlyMap<string, number>;
  readonly digest: Buffer;
  readonly graph: Graph;
}

/** Builds the roster view from advertisements that were already verified (the aggregator's path). */
export function rosterOf(config: RoundConfig, verified: readonly VerifiedAdvertisement[]): OpenRoster {
  const parties = [...verified].sort((a, b) => (a.party < b.party ? -1 : a.party > b.party ? 1 : 0));
  for (let i = 1; i < parties.length; i++) {
    if (parties[i - 1].party === parties[i].party) throw new SecaggError("SECAGG_PROTOCOL", `${parties[i].party} is in the roster twice`);
  }
  const digest = rosterDigest(
    canonicalConfig(config),
    parties.map((p) => p.ad),
  );
  return { config, parties, index: new Map(parties.map((p, i) => [p.party, i])), digest, graph: buildGraph(config, parties.length, digest) };
}

/**
 * Verifies a roster received from the aggregator (the party's path): every advertisement
 * verifies for this round and configuration, they are strictly sorted (no party twice), and
 * their number is within the configured bounds.
 * @throws SecaggError(SECAGG_PROTOCOL)
 */
export function openRoster(config: RoundConfig, ads: readonly Advertisement[], caPem: string, nowMs: number): OpenRoster {
  const verified = ads.map((ad) => verifyAdvertisement(ad, config, caPem, nowMs));
  for (let i = 1; i < verified.length; i++) {
    if (!(verified[i - 1].party < verified[i].party)) throw new SecaggError("SECAGG_PROTOCOL", "the roster is not in canonical order (or lists a party twice)");
  }
  if (verified.length < config.minParties || verified.length > config.maxParties) {
    throw new SecaggError("SECAGG_PROTOCOL", `the roster has ${verified.length} parties, outside ${config.minParties}..${config.maxParties}`);
  }
  return rosterOf(config, verified);
}
