/**
 * `pipeseal/secagg`: secure aggregation (docs/secagg.md). Several parties learn the sum of
 * their vectors (model updates, statistics) and nothing else; the aggregator learns only the
 * sum. Bonawitz et al., CCS 2017, with the SecAgg+ sparse graph of Bell et al., CCS 2020,
 * over pipeseal's mTLS identities; every round audited.
 */
export { startAggregator, SECAGG_MEMBER, SECAGG_REFUSE, SECAGG_RESULT_READ, SECAGG_ROUND } from "./server.js";
export type { Aggregator, AggregatorOptions, RoundTemplate } from "./server.js";
export { SecaggClient, SecaggSession } from "./client.js";
export type { SecaggClientOptions, SubmitReport, RoundResultView } from "./client.js";
export { Party } from "./party.js";
export type { PartyOptions } from "./party.js";
export { AggregatorRound } from "./round.js";
export type { RoundResult, RoundStep, RoundSummary, RoundOptions } from "./round.js";
export { checkConfig, holderCount } from "./config.js";
export type { RoundConfig } from "./config.js";
export { DEFAULT_QUANTIZATION, quantize, dequantizeSum, errorBound, maxParties } from "./quantize.js";
export type { Quantization } from "./quantize.js";
export { loadIdentity } from "./identity.js";
export type { PartyIdentity } from "./identity.js";
export { split, combine } from "./shamir.js";
export type { Share } from "./shamir.js";
export { SecaggError } from "./errors.js";
export { readVector, writeVector } from "./vector-file.js";
