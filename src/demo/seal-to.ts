/** Seals a buffer held in memory into a file (folder created 0700, file 0600, written atomically). */
import { mkdirSync } from "node:fs";
import path from "node:path";
import { sealBuffer } from "../envelope/buffer.js";
import { once, writeAtomic } from "../io/atomic.js";
import type { EncryptionContext, Keyring } from "../keys/keyring.js";

export async function sealTo(
  keyring: Keyring,
  file: string,
  plain: Uint8Array,
  keyName: string,
  context: EncryptionContext,
  segmentSize?: number,
): Promise<void> {
  mkdirSync(path.dirname(file), { recursive: true, mode: 0o700 });
  const sealed = await sealBuffer(keyring, plain, { keyName, context, ...(segmentSize ? { segmentSize } : {}) });
  await writeAtomic(file, once(sealed), 0o600);
}
