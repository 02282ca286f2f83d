import { createReadStream } from "node:fs";
import { stat } from "node:fs/promises";
import { KeyError } from "../errors.js";
import type { Keyring, WrappedKey } from "../keys/keyring.js";
import { writeAtomic } from "../io/atomic.js";
import { FLOE_HEADER_LEN } from "../crypto/floe.js";
import { encodeKeyBlock, LIMITS } from "./header.js";
import { readHeader } from "./open.js";
import { Pull } from "./pull.js";
import { headerHash } from "./unlock.js";

export interface RewrapResult {
  readonly path: string;
  readonly changes: readonly { keyName: string; from: number; to: number }[];
}

/**
 * Rewraps a sealed file's data key under the primary version of each key that wrapped it.
 * The keyring does the rewrap itself and never hands out the data key. Only the key block
 * changes; the fixed part, FLOE header and body are copied byte for byte into a temp
 * file that replaces the original atomically.
 * Entries from other keyrings are kept as they are.
 * @throws FormatError, KeyError, AuditError, DecryptError.
 */
export async function rewrapFile(keyring: Keyring, path: string): Promise<RewrapResult> {
  const { mode } = await stat(path);
  const maxHeader = LIMITS.maxFixedPart + LIMITS.maxKeyBlock + FLOE_HEADER_LEN;
  const header = await readHeader(new Pull(createReadStream(path, { end: maxHeader - 1 })));
  const object = { operation: "rewrap", path, headerHash: headerHash(header) };
  if (!header.wrappedKeys.some((k) => k.keyring === keyring.id)) {
    throw new KeyError("KEYRING_MISMATCH", `the file's data key is not wrapped by keyring "${keyring.id}"`);
  }
  const changes: { keyName: string; from: number; to: number }[] = [];
  const entries: WrappedKey[] = [];
  for (const entry of header.wrappedKeys) {
    if (entry.keyring !== keyring.id) {
      entries.push(entry);
      continue;
    }
    const next = await keyring.rewrap(entry, header.context, object);
    changes.push({ keyName: entry.keyName, from: entry.keyVersion, to: next.keyVersion });
    entries.push(next);
  }
  if (changes.length === 0) return { path, changes };
  async function* rewritten(): AsyncGenerator<Buffer> {
    yield Buffer.concat([header.fixedPart, encodeKeyBlock(entries), header.floeHeader]);
    yield* createReadStream(path, { start: header.length, highWaterMark: 1024 * 1024 });
  }
  await writeAtomic(path, rewritten(), mode & 0o777);
  return { path, changes };
}
