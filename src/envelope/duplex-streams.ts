import { Duplex } from "node:stream";
import type { Keyring } from "../keys/keyring.js";
import { openStream, type OpenOptions } from "./open.js";
import { sealStream, type SealOptions } from "./seal.js";

/**
 * A Node Duplex that seals what is written to it, for `stream.pipeline`.
 * @example await pipeline(fs.createReadStream("a.csv"), sealTransform(ks, { keyName: "datasets/raw" }), fs.createWriteStream("a.csv.pseal"));
 */
export function sealTransform(keyring: Keyring, options: SealOptions): Duplex {
  return Duplex.from(async function* (source: AsyncIterable<Uint8Array>) {
    yield* sealStream(keyring, source, options);
  });
}

/**
 * A Node Duplex that opens a sealed stream; it errors (DecryptError and others) instead of
 * emitting anything that does not authenticate.
 */
export function openTransform(keyring: Keyring, options: OpenOptions = {}): Duplex {
  return Duplex.from(async function* (source: AsyncIterable<Uint8Array>) {
    yield* openStream(keyring, source, options);
  });
}
