/**
 * The v2 key-block binding (docs/format.md §6): how a wrapped key is bound to its file and
 * to the key block it sits in. One place for the rule, called by the sealer, the local
 * keystore, the key service's stores and the reader alike.
 *
 *   objectId  = SHA-256(FLOE AAD || FLOE header)                       (envelope, 32 bytes)
 *   entry_j   = u8 R || keyring id || u16 L || key name || u32 version || u16 W || wrapped
 *   digest_j  = SHA-256(entry_j)
 *   blockKey  = HKDF-SHA-256(IKM = DEK, salt = objectId, info = "pipeseal-key-block-v2", 32)   RFC 5869 §2.2–2.3
 *   tag_j     = HMAC-SHA-256(blockKey, "pipeseal-entry-tag-v2" || u8 N || u8 j || digest_j)   RFC 2104
 *
 * The design follows age's header MAC (age-encryption.org/v1, "Header"): a MAC over the
 * recipient list keyed by HKDF from the file key, so only someone who holds the data key can
 * make or change a key block, and anyone who unwraps it can check every other entry, even
 * one under a key it does not hold. It is split per entry (each tag covers the entry count,
 * its position and its bytes) so that one keyring can rewrap its own entries without the
 * data key ever leaving it, and without invalidating the entries of other keyrings.
 *
 * Security guarantees: with the data key, a reader detects any added, removed, duplicated,
 * reordered or altered entry (keyring id, key name, version, wrapped bytes or tag), before
 * the keyring releases the key. Tags are compared in constant time.
 */
import { createHash, createHmac, hkdfSync, timingSafeEqual } from "node:crypto";
import { PipesealError, UsageError } from "../errors.js";

export const OBJECT_ID_BYTES = 32;
export const ENTRY_TAG_BYTES = 32;
const BLOCK_KEY_INFO = Buffer.from("pipeseal-key-block-v2", "utf8");
const TAG_LABEL = Buffer.from("pipeseal-entry-tag-v2", "utf8");

/**
 * Where a v2 entry sits: its file (object id) and its key block (every entry's digest and
 * tag, in order). A keyring given a binding opens the entry with the v2 wrap AAD and checks
 * the whole block before it releases or rewraps anything.
 */
export interface EntryBinding {
  /** SHA-256(FLOE AAD || FLOE header) of the file, 32 bytes. */
  readonly objectId: Uint8Array;
  /** Position of this entry in the key block (0-based). */
  readonly index: number;
  /** SHA-256 of each entry's bytes, in key-block order (N values). */
  readonly digests: readonly Uint8Array[];
  /** Each entry's tag, in key-block order (N values). */
  readonly tags: readonly Uint8Array[];
  /**
   * The keyring id as written in the file, when the keyring knows itself by another name
   * (the key service stamps its own id on entries; its clients write `ks:<host>`).
   */
  readonly keyringLabel?: string;
}

/** Where a new v2 entry will sit: the file and its position, for a wrap that makes one (rewrap --upgrade). */
export interface EntryTarget {
  readonly objectId: Uint8Array;
  readonly index: number;
  readonly count: number;
  /** As in {@link EntryBinding}: the keyring id the file will name, if not the keyring's own. */
  readonly keyringLabel?: string;
}

/** The bytes of one key-block entry without its tag (docs/format.md §3.3). */
export function encodeEntry(keyring: string, keyName: string, keyVersion: number, wrapped: Uint8Array): Buffer {
  const ring = Buffer.from(keyring, "utf8");
  const name = Buffer.from(keyName, "utf8");
  if (ring.length > 255 || name.length > 65535 || wrapped.length > 65535) throw new UsageError("INVALID_ARGUMENT", "key-block entry field too long");
  const head = Buffer.alloc(1 + ring.length + 2 + name.length + 4 + 2);
  let o = head.writeUInt8(ring.length, 0);
  o += ring.copy(head, o);
  o = head.writeUInt16BE(name.length, o);
  o += name.copy(head, o);
  o = head.writeUInt32BE(keyVersion >>> 0, o);
  head.writeUInt16BE(wrapped.length, o);
  return Buffer.concat([head, wrapped]);
}

export function entryDigest(keyring: string, keyName: string, keyVersion: number, wrapped: Uint8Array): Buffer {
  return createHash("sha256")
    .update(encodeEntry(keyring, keyName, keyVersion, wrapped))
    .digest();
}

/** The key-block MAC key; the caller wipes it. */
export function blockKey(dataKey: Uint8Array, objectId: Uint8Array): Buffer {
  return Buffer.from(hkdfSync("sha256", dataKey, objectId, BLOCK_KEY_INFO, 32));
}

export function entryTag(key: Uint8Array, count: number, index: number, digest: Uint8Array): Buffer {
  return createHmac("sha256", key).update(TAG_LABEL).update(Buffer.of(count, index)).update(digest).digest();
}

/** Tags for a whole new key block (the sealer, which holds the data key). */
export function tagEntries(dataKey: Uint8Array, objectId: Uint8Array, digests: readonly Uint8Array[]): Buffer[] {
  const key = blockKey(dataKey, objectId);
  try {
    return digests.map((d, i) => entryTag(key, digests.length, i, d));
  } finally {
    key.fill(0);
  }
}

/** The tag of a new entry at `target` (a keyring rewrapping or upgrading one entry). */
export function tagOne(dataKey: Uint8Array, target: EntryTarget, digest: Uint8Array): Buffer {
  const key = blockKey(dataKey, target.objectId);
  try {
    return entryTag(key, target.count, target.index, digest);
  } finally {
    key.fill(0);
  }
}

/** Shape checks on a binding from a caller (the wire, a library user). @throws UsageError(INVALID_ARGUMENT) */
export function checkBindingShape(b: EntryBinding): EntryBinding {
  const is32 = (x: unknown) => x instanceof Uint8Array && x.length === 32;
  const n = Array.isArray(b?.digests) ? b.digests.length : 0;
  if (!is32(b?.objectId) || n < 1 || n > 255 || !Array.isArray(b.tags) || b.tags.length !== n || !b.digests.every(is32) || !b.tags.every(is32)) {
    throw new UsageError("INVALID_ARGUMENT", "a key-block binding needs a 32-byte object id and one 32-byte digest and tag per entry");
  }
  if (!Number.isInteger(b.index) || b.index < 0 || b.index >= n) throw new UsageError("INVALID_ARGUMENT", "the binding's entry index is out of range");
  if (b.keyringLabel !== undefined && (typeof b.keyringLabel !== "string" || Buffer.byteLength(b.keyringLabel) < 1 || Buffer.byteLength(b.keyringLabel) > 64)) {
    throw new UsageError("INVALID_ARGUMENT", "the binding's keyring label must be 1-64 bytes");
  }
  return b;
}

/**
 * Checks, with the unwrapped data key, that `entry` is the one at `binding.index` and that
 * every entry's tag verifies: the key block is exactly the one the data key's holder made.
 * @throws PipesealError(KEY_BLOCK_INVALID) — the caller wipes the data key and records the failure.
 */
export function verifyKeyBlock(
  dataKey: Uint8Array,
  entry: { keyring: string; keyName: string; keyVersion: number; wrapped: Uint8Array },
  binding: EntryBinding,
): void {
  const own = entryDigest(binding.keyringLabel ?? entry.keyring, entry.keyName, entry.keyVersion, entry.wrapped);
  const key = blockKey(dataKey, binding.objectId);
  try {
    let ok = timingSafeEqual(own, binding.digests[binding.index]);
    const n = binding.digests.length;
    for (let j = 0; j < n; j++) ok = timingSafeEqual(entryTag(key, n, j, binding.digests[j]), binding.tags[j]) && ok;
    if (!ok) throw new PipesealError("KEY_BLOCK_INVALID");
  } finally {
    key.fill(0);
  }
}
