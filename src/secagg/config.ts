/**
 * A round's parameters, announced by the aggregator and signed into every party's
 * advertisement (so all parties provably ran the same round), with the rules a party
 * applies before it takes part.
 */
import { SecaggError } from "./errors.js";
import { type Quantization, checkQuantization, maxParties } from "./quantize.js";

export interface RoundConfig {
  readonly v: 1;
  readonly round: string;
  /** Vector length. */
  readonly dim: number;
  /** Shamir threshold t: shares needed to reconstruct a secret, and the fewest inputs a released sum may hold. */
  readonly threshold: number;
  /** Fewest advertised parties the round starts with. */
  readonly minParties: number;
  /** Most parties admitted (full graph: at most 2t − 1, see `checkConfig`). */
  readonly maxParties: number;
  /** "full": every pair masks (Bonawitz et al. 2017); "plus": k neighbours on a random ring graph (SecAgg+, Bell et al. 2020). */
  readonly graph: "full" | "plus";
  /** k, the neighbours of each party in "plus" mode (even); 0 for "full". */
  readonly neighbours: number;
  readonly quantization: Quantization;
}

export const ROUND_ID = /^[A-Za-z0-9._-]{1,64}$/;

/** Shares of a party's secrets go to its neighbours and itself: k + 1 holders, or all n. */
export function holderCount(config: RoundConfig, n: number): number {
  return config.graph === "full" ? n : Math.min(n, config.neighbours + 1);
}

/**
 * The rules every round obeys (checked by the aggregator when it is configured and by every
 * party before it advertises):
 * - 2t > holders: an aggregator that lies about who dropped cannot collect t shares of both
 *   kinds for one peer from distinct honest holders (each reveals one kind, §6.2's argument
 *   with the per-party check of party.ts);
 * - t ≤ minParties ≤ maxParties, and maxParties·(R − 1) < 2^32 so the sum never wraps.
 * @throws SecaggError(SECAGG_PROTOCOL) naming the broken rule.
 */
export function checkConfig(c: RoundConfig): void {
  const bad = (m: string): never => {
    throw new SecaggError("SECAGG_PROTOCOL", `round configuration: ${m}`);
  };
  if (c.v !== 1) bad("unknown version");
  if (typeof c.round !== "string" || !ROUND_ID.test(c.round)) bad("the round id must be 1-64 characters of A-Z a-z 0-9 . _ -");
  if (!Number.isInteger(c.dim) || c.dim < 1 || c.dim > 2 ** 26) bad("dim must be an integer in 1..2^26");
  if (!Number.isInteger(c.threshold) || c.threshold < 2) bad("the threshold must be an integer ≥ 2");
  if (!Number.isInteger(c.minParties) || !Number.isInteger(c.maxParties) || c.minParties < c.threshold || c.maxParties < c.minParties)
    bad("need threshold ≤ min parties ≤ max parties");
  try {
    checkQuantization(c.quantization);
  } catch (e) {
    bad((e as Error).message);
  }
  if (c.maxParties > maxParties(c.quantization)) bad(`at most ${maxParties(c.quantization)} parties fit this quantization range without wrapping modulo 2^32`);
  if (c.graph === "full") {
    if (c.neighbours !== 0) bad("neighbours is 0 in full mode");
    if (2 * c.threshold <= c.maxParties) bad(`full graph: the threshold must exceed half of the parties (max parties ≤ 2t − 1 = ${2 * c.threshold - 1})`);
  } else if (c.graph === "plus") {
    if (!Number.isInteger(c.neighbours) || c.neighbours < 2 || c.neighbours % 2 !== 0) bad("neighbours must be an even integer ≥ 2");
    if (c.threshold > c.neighbours + 1) bad("the threshold cannot exceed neighbours + 1 (the holders of each party's shares)");
    if (2 * c.threshold <= c.neighbours + 1) bad(`SecAgg+: the threshold must exceed half of the k + 1 = ${c.neighbours + 1} holders`);
  } else bad('graph must be "full" or "plus"');
}

/** The canonical JSON of a config (fixed key order): what advertisements sign. */
export function canonicalConfig(c: RoundConfig): string {
  return JSON.stringify({
    v: c.v,
    round: c.round,
    dim: c.dim,
    threshold: c.threshold,
    minParties: c.minParties,
    maxParties: c.maxParties,
    graph: c.graph,
    neighbours: c.neighbours,
    quantization: { clip: c.quantization.clip, levels: c.quantization.levels },
  });
}

/** A config from untrusted JSON. @throws SecaggError(SECAGG_PROTOCOL) */
export function parseConfig(json: unknown): RoundConfig {
  const o = json as Record<string, unknown> | null;
  const q = o?.quantization as Record<string, unknown> | undefined;
  if (!o || typeof o !== "object" || !q || typeof q !== "object") throw new SecaggError("SECAGG_PROTOCOL", "round configuration: malformed");
  const c: RoundConfig = {
    v: o.v as 1,
    round: o.round as string,
    dim: o.dim as number,
    threshold: o.threshold as number,
    minParties: o.minParties as number,
    maxParties: o.maxParties as number,
    graph: o.graph as "full",
    neighbours: o.neighbours as number,
    quantization: { clip: q.clip as number, levels: q.levels as number },
  };
  checkConfig(c);
  return c;
}
