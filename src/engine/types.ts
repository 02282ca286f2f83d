import type { FloeState } from "../crypto/floe.js";

/** A run of consecutive FLOE segments handed to an engine in one call. */
export interface Batch {
  /** Concatenated segments: `count - 1` full ones and, if `final`, a last one of any allowed length. */
  readonly data: Buffer;
  /** Position of the first segment in the message. */
  readonly first: number;
  readonly count: number;
  /** True for the batch holding the message's last segment. */
  readonly final: boolean;
}

/**
 * Where batch work runs. Contract for every engine: `encrypt` returns the FLOE segments of
 * the batch (header-less); `decrypt` returns its plaintext only if every segment in the batch
 * authenticates, else rejects with DecryptError and returns nothing; neither keeps anything of
 * the state or the data once it has settled.
 */
export interface SegmentEngine {
  encrypt(state: FloeState, batch: Batch): Promise<Buffer>;
  decrypt(state: FloeState, batch: Batch): Promise<Buffer>;
  /** How many batches may be in flight at once. */
  readonly depth: number;
  /** Plaintext bytes per batch this engine works best with (default 1 MiB). */
  readonly batchBytes?: number;
  /** "native" (the system's OpenSSL through the addon) or "reference" (node:crypto). */
  readonly name?: string;
}
