import { once } from "../io/atomic.js";
import type { Keyring } from "../keys/keyring.js";
import { openStream, type OpenOptions } from "./open.js";
import { sealStream, type SealOptions } from "./seal.js";

async function collect(chunks: AsyncIterable<Buffer>): Promise<Buffer> {
  const parts: Buffer[] = [];
  for await (const c of chunks) parts.push(c);
  return Buffer.concat(parts);
}

/**
 * Seals a buffer in memory. For large data use sealStream or encryptFile.
 * @example const sealed = await sealBuffer(keystore, Buffer.from("hello"), { keyName: "datasets/raw" });
 */
export function sealBuffer(keyring: Keyring, plaintext: Uint8Array, options: SealOptions): Promise<Buffer> {
  return collect(sealStream(keyring, once(plaintext), options));
}

/**
 * Opens a sealed buffer; returns plaintext only if all of it authenticates.
 * @throws FormatError, KeyError, AuditError, DecryptError.
 */
export async function openBuffer(keyring: Keyring, sealed: Uint8Array, options: OpenOptions = {}): Promise<Buffer> {
  return collect(openStream(keyring, once(sealed), options));
}
