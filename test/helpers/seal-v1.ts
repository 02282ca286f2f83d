/**
 * A format v1 writer for tests (docs/format.md Appendix A): pipeseal writes v2 since issue 19,
 * but v1 files must open forever and `rewrap --upgrade` must turn them into v2, so tests
 * make real v1 files: a v1 fixed part, v1 wraps (no object id) from the real keyring, no tags.
 */
import { randomBytes } from "node:crypto";
import { SEGMENT_OVERHEAD, encryptSegment, startEncryption, wipeState } from "../../src/crypto/floe.js";
import { encodeFixedPart, encodeKeyBlock } from "../../src/envelope/header.js";
import type { EncryptionContext, Keyring, WrappedKey } from "../../src/keys/keyring.js";

export async function sealV1(
  keyring: Keyring,
  plaintext: Uint8Array,
  o: { keyNames: readonly string[]; context?: EncryptionContext; segmentSize?: number },
): Promise<Buffer> {
  const P = o.segmentSize ?? 64 * 1024;
  const context = o.context ?? {};
  const fixed = encodeFixedPart(P + SEGMENT_OVERHEAD, context, 1);
  const dek = randomBytes(32);
  try {
    const entries: WrappedKey[] = [];
    for (const name of o.keyNames) entries.push(await keyring.wrap(name, dek, context)); // no object id: a v1 wrap
    const { state, header } = startEncryption(dek, fixed, { encSegLen: P + SEGMENT_OVERHEAD });
    const n = Math.max(1, Math.ceil(plaintext.length / P));
    const segments = Array.from({ length: n }, (_, i) =>
      encryptSegment(state, plaintext.subarray(i * P, Math.min(plaintext.length, (i + 1) * P)), i, i === n - 1),
    );
    wipeState(state);
    return Buffer.concat([fixed, encodeKeyBlock(entries, 1), header, ...segments]);
  } finally {
    dek.fill(0);
  }
}
