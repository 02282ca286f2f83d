/**
 * Sealed-file header codec (docs/format.md is normative; keep the two in step).
 *
 *   sealed file = fixed part || key block || FLOE header (74 bytes) || FLOE body
 *
 * The fixed part is FLOE's associated data (in v2 with its version byte read as 01, so a v1
 * body moves into a v2 file unchanged), so any change to it makes the file fail to open. The
 * key block sits outside it so that rewrap can replace wrapped keys without touching the
 * body. In v1 each wrapped key binds its key name, version and the context; in v2 it also
 * binds the file's object id, and every entry carries a tag keyed from the data key, so the
 * key block is authenticated as a whole (src/keys/key-block.ts, docs/format.md §6).
 *
 * Every length field is checked against LIMITS before anything is allocated from it.
 */
import { FormatError } from "../errors.js";
import { FLOE_HEADER_LEN, SEGMENT_OVERHEAD, encodeParams } from "../crypto/floe.js";
import { createHash } from "node:crypto";
import { encodeContext, isValidContextKey, normalizeContext } from "../keys/context.js";
import { ENTRY_TAG_BYTES, encodeEntry, entryDigest } from "../keys/key-block.js";
import type { EncryptionContext, WrappedKey } from "../keys/keyring.js";
import { ByteReader } from "./byte-reader.js";

export const MAGIC = Buffer.from("PSEAL", "latin1");
/** The version new files are written in. */
export const FORMAT_VERSION = 2;
/** Every version this build reads (v1 forever: docs/format.md Appendix A). */
export const READABLE_VERSIONS: readonly number[] = [1, 2];

/** Enforced limits (docs/format.md §Limits). */
export const LIMITS = {
  maxFixedPart: 64 * 1024,
  maxKeyBlock: 16 * 1024,
  maxWrappedKeys: 8,
  maxKeyringIdBytes: 64,
  maxKeyNameBytes: 255,
  maxWrappedBytes: 1024,
  minEncSegLen: 64,
  maxEncSegLen: 64 * 1024 * 1024,
} as const;

/** Bytes that tell how long the fixed part is: magic, version byte, fixed-part length. */
export const PRELUDE_LEN = 10;

export interface SealedHeader {
  /** 1 or 2 (byte 5). */
  readonly formatVersion: number;
  /** ENC_SEG_LEN of the FLOE body. */
  readonly encSegLen: number;
  readonly context: EncryptionContext;
  readonly wrappedKeys: readonly WrappedKey[];
  /** The fixed part's bytes as in the file. */
  readonly fixedPart: Buffer;
  /** The FLOE associated data: the fixed part with its version byte read as 01 (v1: the fixed part itself). */
  readonly floeAad: Buffer;
  /** SHA-256(FLOE AAD || FLOE header), 32 bytes: the object id (docs/format.md §9); the same in v1 and v2. */
  readonly objectId: Buffer;
  /** The key block's bytes as in the file. */
  readonly keyBlock: Buffer;
  /** The FLOE header (parameters, IV, header tag). */
  readonly floeHeader: Buffer;
  /** Total header length: fixed part + key block + FLOE header. */
  readonly length: number;
}

/** Builds the fixed part (magic, version, length, FLOE parameters, context). */
export function encodeFixedPart(encSegLen: number, context: EncryptionContext, version: number = FORMAT_VERSION): Buffer {
  if (!READABLE_VERSIONS.includes(version)) throw new FormatError("UNSUPPORTED_FORMAT", `sealed-file format version ${version} is not supported`);
  checkSegLen(encSegLen);
  const ctx = encodeContext(normalizeContext(context));
  const length = 10 + 10 + ctx.length;
  if (length > LIMITS.maxFixedPart) throw new FormatError("LIMIT_EXCEEDED", "the encryption context is too large for a header");
  const head = Buffer.alloc(10);
  MAGIC.copy(head, 0);
  head.writeUInt8(version, 5);
  head.writeUInt32BE(length, 6);
  return Buffer.concat([head, encodeParams({ encSegLen }), ctx]);
}

/**
 * The FLOE associated data of a fixed part: its bytes with the version byte set to 01. The
 * body layer did not change in v2, so v1 and v2 files share it (and rewrap --upgrade keeps
 * the body); byte 5 is authenticated in v2 by the wrap and tag labels instead (§6).
 */
export function floeAadOf(fixedPart: Buffer): Buffer {
  if (fixedPart[5] === 1) return fixedPart;
  const aad = Buffer.from(fixedPart);
  aad[5] = 1;
  return aad;
}

/** SHA-256(FLOE AAD || FLOE header): the object id (docs/format.md §9). */
export function objectIdOf(fixedPart: Buffer, floeHeader: Buffer): Buffer {
  return createHash("sha256").update(floeAadOf(fixedPart)).update(floeHeader).digest();
}

/** Builds the key block from one or more wrapped keys; in v2 every entry must carry its tag. */
export function encodeKeyBlock(keys: readonly WrappedKey[], version: number = FORMAT_VERSION): Buffer {
  if (keys.length < 1 || keys.length > LIMITS.maxWrappedKeys) {
    throw new FormatError("LIMIT_EXCEEDED", `a sealed file holds 1 to ${LIMITS.maxWrappedKeys} wrapped keys`);
  }
  const parts: Buffer[] = [Buffer.alloc(4), Buffer.of(keys.length)];
  for (const k of keys) {
    const ring = Buffer.from(k.keyring, "utf8");
    const name = Buffer.from(k.keyName, "utf8");
    if (ring.length < 1 || ring.length > LIMITS.maxKeyringIdBytes) throw new FormatError("LIMIT_EXCEEDED", "keyring id too long");
    if (name.length < 1 || name.length > LIMITS.maxKeyNameBytes) throw new FormatError("LIMIT_EXCEEDED", "key name too long");
    if (k.wrapped.length < 1 || k.wrapped.length > LIMITS.maxWrappedBytes) throw new FormatError("LIMIT_EXCEEDED", "wrapped key too long");
    if (!Number.isInteger(k.keyVersion) || k.keyVersion < 1 || k.keyVersion > 0xffffffff) throw new FormatError("LIMIT_EXCEEDED", "key version out of range");
    parts.push(encodeEntry(k.keyring, k.keyName, k.keyVersion, k.wrapped));
    if (version >= 2) {
      if (!(k.tag instanceof Uint8Array) || k.tag.length !== ENTRY_TAG_BYTES)
        throw new FormatError("MALFORMED_HEADER", "a v2 key-block entry needs its 32-byte tag");
      parts.push(Buffer.from(k.tag));
    }
  }
  const block = Buffer.concat(parts);
  if (block.length > LIMITS.maxKeyBlock) throw new FormatError("LIMIT_EXCEEDED", "key block too large");
  block.writeUInt32BE(block.length, 0);
  return block;
}

/**
 * Reads the prelude (first PRELUDE_LEN bytes) and returns the fixed part's length, or throws.
 * Lets a streaming reader know how many bytes to wait for without trusting them blindly.
 */
export function fixedPartLength(prelude: Buffer): number {
  if (prelude.length === 0) throw new FormatError("NOT_SEALED", "the input is empty: not a pipeseal sealed file");
  if (prelude.length < PRELUDE_LEN || !prelude.subarray(0, 5).equals(MAGIC)) {
    throw new FormatError(
      "NOT_SEALED",
      prelude.length < PRELUDE_LEN ? `not a pipeseal sealed file (only ${prelude.length} bytes)` : "not a pipeseal sealed file (bad magic)",
    );
  }
  const version = prelude.readUInt8(5);
  if (!READABLE_VERSIONS.includes(version))
    throw new FormatError("UNSUPPORTED_FORMAT", `sealed-file format version ${version} is not supported (this build reads ${READABLE_VERSIONS.join(" and ")})`);
  const length = prelude.readUInt32BE(6);
  if (length < 22 || length > LIMITS.maxFixedPart) throw new FormatError("MALFORMED_HEADER", "fixed header length out of bounds");
  return length;
}

/** Given the fixed part and at least 4 more bytes, the key block's length. */
export function keyBlockLength(bytes: Buffer, fixedLength: number): number {
  if (bytes.length < fixedLength + 4) throw new FormatError("MALFORMED_HEADER", "header truncated");
  const length = bytes.readUInt32BE(fixedLength);
  if (length < 5 || length > LIMITS.maxKeyBlock) throw new FormatError("MALFORMED_HEADER", "key block length out of bounds");
  return length;
}

/** Total header length, from the first bytes of a file (needs fixed part + 4 bytes). */
export function headerLength(bytes: Buffer): number {
  const fixed = fixedPartLength(bytes);
  return fixed + keyBlockLength(bytes, fixed) + FLOE_HEADER_LEN;
}

/** Parses a whole header. `bytes` must hold at least `headerLength(bytes)` bytes. */
export function decodeHeader(bytes: Buffer): SealedHeader {
  const fixedLength = fixedPartLength(bytes);
  const keyLength = keyBlockLength(bytes, fixedLength);
  const total = fixedLength + keyLength + FLOE_HEADER_LEN;
  if (bytes.length < total) throw new FormatError("MALFORMED_HEADER", "header truncated");

  const fixed = new ByteReader(bytes.subarray(0, fixedLength));
  fixed.skip(10);
  const aeadId = fixed.u8();
  const kdfId = fixed.u8();
  const encSegLen = fixed.u32();
  const ivLen = fixed.u32();
  if (aeadId !== 0 || kdfId !== 0 || ivLen !== 32) throw new FormatError("UNSUPPORTED_FORMAT", "unsupported FLOE parameters");
  checkSegLen(encSegLen);
  const context = decodeContext(fixed);
  fixed.end();

  const block = new ByteReader(bytes.subarray(fixedLength, fixedLength + keyLength));
  block.skip(4);
  const count = block.u8();
  if (count < 1 || count > LIMITS.maxWrappedKeys) throw new FormatError("MALFORMED_HEADER", "wrapped-key count out of bounds");
  const version = bytes.readUInt8(5);
  const parsed: { keyring: string; keyName: string; keyVersion: number; wrapped: Buffer; tag?: Buffer }[] = [];
  for (let i = 0; i < count; i++) {
    const keyring = block.utf8(block.u8(), LIMITS.maxKeyringIdBytes);
    const keyName = block.utf8(block.u16(), LIMITS.maxKeyNameBytes);
    const keyVersion = block.u32();
    if (keyVersion === 0) throw new FormatError("MALFORMED_HEADER", "key versions start at 1");
    const wrapped = Buffer.from(block.bytes(block.u16(), LIMITS.maxWrappedBytes));
    if (!keyring || !keyName || wrapped.length === 0) throw new FormatError("MALFORMED_HEADER", "empty wrapped-key field");
    parsed.push(
      version >= 2
        ? { keyring, keyName, keyVersion, wrapped, tag: Buffer.from(block.bytes(ENTRY_TAG_BYTES, ENTRY_TAG_BYTES)) }
        : { keyring, keyName, keyVersion, wrapped },
    );
  }
  block.end();

  const floeHeader = Buffer.from(bytes.subarray(fixedLength + keyLength, total));
  if (!floeHeader.subarray(0, 10).equals(bytes.subarray(10, 20))) {
    throw new FormatError("MALFORMED_HEADER", "FLOE parameters differ between the fixed part and the FLOE header");
  }
  const fixedPart = Buffer.from(bytes.subarray(0, fixedLength));
  const objectId = objectIdOf(fixedPart, floeHeader);
  return {
    formatVersion: version,
    encSegLen,
    context,
    wrappedKeys: version >= 2 ? bindEntries(parsed, objectId) : parsed,
    fixedPart,
    floeAad: floeAadOf(fixedPart),
    objectId,
    keyBlock: Buffer.from(bytes.subarray(fixedLength, fixedLength + keyLength)),
    floeHeader,
    length: total,
  };
}

/** v2: each entry gets its binding — the file's object id and every entry's digest and tag, as read. */
function bindEntries(
  entries: readonly { keyring: string; keyName: string; keyVersion: number; wrapped: Buffer; tag?: Buffer }[],
  objectId: Buffer,
): WrappedKey[] {
  const digests = entries.map((e) => entryDigest(e.keyring, e.keyName, e.keyVersion, e.wrapped));
  const tags = entries.map((e) => e.tag!);
  return entries.map((e, index) => ({ ...e, binding: { objectId, index, digests, tags } }));
}

function decodeContext(r: ByteReader): EncryptionContext {
  const count = r.u16();
  const out: Record<string, string> = {};
  let previous: string | undefined;
  for (let i = 0; i < count; i++) {
    const key = r.utf8(r.u16(), 1024);
    const value = r.utf8(r.u16(), 1024 * 64);
    // canonical form: keys strictly increasing, so one context has one encoding
    if (previous !== undefined && !(previous < key)) throw new FormatError("MALFORMED_HEADER", "context keys not in canonical order");
    if (!isValidContextKey(key)) throw new FormatError("MALFORMED_HEADER", "context in header is not valid");
    previous = key;
    out[key] = value;
  }
  try {
    return normalizeContext(out);
  } catch {
    throw new FormatError("MALFORMED_HEADER", "context in header is not valid");
  }
}

function checkSegLen(encSegLen: number): void {
  if (!Number.isInteger(encSegLen) || encSegLen < LIMITS.minEncSegLen || encSegLen > LIMITS.maxEncSegLen) {
    throw new FormatError("LIMIT_EXCEEDED", `segment length must be ${LIMITS.minEncSegLen}..${LIMITS.maxEncSegLen} bytes`);
  }
}

/** Plaintext bytes per full segment for a header. */
export function plainSegmentLength(header: Pick<SealedHeader, "encSegLen">): number {
  return header.encSegLen - SEGMENT_OVERHEAD;
}
