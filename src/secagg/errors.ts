/** Typed errors of secure aggregation (codes in src/errors.ts, docs/errors.md). */
import { PipesealError } from "../errors.js";

/**
 * A secure-aggregation round failed or a message was refused:
 * - `SECAGG_ABORTED`: fewer than the threshold of parties remained at some step (or the aggregator aborted the round);
 * - `SECAGG_PROTOCOL`: a message broke the protocol (bad signature, another round's message, unknown party, wrong step, malformed);
 * - `SECAGG_UNSAFE_REQUEST`: the aggregator asked a party for what would reveal a peer's input (both shares of one peer, a second unmasking, too few survivors);
 * - `SECAGG_PENDING`: the round has not finished yet.
 */
export class SecaggError extends PipesealError {}
