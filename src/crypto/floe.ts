/**
 * FLOE — Fast Lightweight Online Encryption (Snowflake; spec: floe-specification
 * `spec/README.md`, c2sp.org/FLOE). A random-access, key-committing streaming AEAD.
 *
 * Parameters fixed by the spec: AEAD = AES-GCM-256, KDF = HKDF-EXPAND-SHA-384,
 * FLOE_IV_LEN = 32. Only ENC_SEG_LEN varies.
 *
 * Security guarantees (spec, and IACR ePrint 2025/2275): confidentiality and integrity of
 * every segment; segments cannot be reordered, dropped, duplicated or moved between
 * ciphertexts (each is bound to its position and to whether it is final); truncation is
 * detected because only a segment marked final ends a message; the header tag commits the
 * ciphertext to one key and one AAD. Random access: any segment decrypts on its own.
 * Never call encryptSegment twice for the same position of one header.
 */
import { createCipheriv, randomBytes, timingSafeEqual } from "node:crypto";
import { gcmDecrypt } from "./aes-gcm.js";
import { DecryptError } from "../errors.js";
import { hkdfExpand } from "./hkdf.js";

export const FLOE_IV_LEN = 32;
const AEAD_ID = 0; // AES-GCM-256
const KDF_ID = 0; // HKDF-EXPAND-SHA-384
const AEAD_KEY_LEN = 32;
const AEAD_IV_LEN = 12;
const AEAD_TAG_LEN = 16;
const KDF_KEY_LEN = 48;
const HEADER_TAG_LEN = 32;
const PARAMS_LEN = 10;
/** Spec §Derived Parameters: 2^AEAD_ROTATION_MASK segments per AEAD key. */
export const AEAD_ROTATION_MASK = 20;
/** Spec §Derived Parameters: AEAD_MAX_SEGMENTS for AES-GCM-256. */
export const AEAD_MAX_SEGMENTS = 2 ** 40;
const NON_FINAL_MARKER = 0xffffffff;

/** Bytes a segment adds to its plaintext: length field, AEAD IV, AEAD tag. */
export const SEGMENT_OVERHEAD = 4 + AEAD_IV_LEN + AEAD_TAG_LEN;
/** Length of a segment's random AEAD IV. */
export const SEGMENT_IV_LEN = AEAD_IV_LEN;
/** Length of the FLOE header: encoded parameters, IV, header tag. */
export const FLOE_HEADER_LEN = PARAMS_LEN + FLOE_IV_LEN + HEADER_TAG_LEN;

export interface FloeParams {
  /** ENC_SEG_LEN: bytes of one full encrypted segment. */
  readonly encSegLen: number;
  /** Only for known-answer tests that exercise rotation; real files use the spec's 20. */
  readonly rotationMask?: number;
}

/** Plaintext bytes carried by one full (non-final) segment. */
export function plainSegLen(params: FloeParams): number {
  return params.encSegLen - SEGMENT_OVERHEAD;
}

/** Spec PARAM_ENCODE: I2BE(AEAD_ID,1) || I2BE(KDF_ID,1) || I2BE(ENC_SEG_LEN,4) || I2BE(FLOE_IV_LEN,4). */
export function encodeParams(params: FloeParams): Buffer {
  const out = Buffer.alloc(PARAMS_LEN);
  out.writeUInt8(AEAD_ID, 0);
  out.writeUInt8(KDF_ID, 1);
  out.writeUInt32BE(params.encSegLen, 2);
  out.writeUInt32BE(FLOE_IV_LEN, 6);
  return out;
}

/** Key material derived for one message. Serializable so that worker threads can share it. */
export interface FloeState {
  readonly encSegLen: number;
  readonly rotationMask: number;
  readonly messageKey: Uint8Array;
  readonly iv: Uint8Array;
  readonly aad: Uint8Array;
}

/** Spec FLOE_KDF(key, iv, aad, purpose, len) = KDF(key, PARAM_ENCODE || iv || purpose || aad, len). */
function floeKdf(params: FloeParams, key: Uint8Array, iv: Uint8Array, aad: Uint8Array, purpose: Uint8Array, len: number): Buffer {
  const info = Buffer.concat([encodeParams(params), iv, purpose, aad]);
  return hkdfExpand("sha384", key, info, len);
}

function checkParams(params: FloeParams): void {
  if (!Number.isInteger(params.encSegLen) || params.encSegLen <= SEGMENT_OVERHEAD || params.encSegLen > 0xfffffffe) {
    throw new RangeError(`ENC_SEG_LEN must be an integer in ${SEGMENT_OVERHEAD + 1}..${0xfffffffe}`);
  }
}

function checkKey(key: Uint8Array): void {
  if (key.length !== AEAD_KEY_LEN) throw new RangeError(`a FLOE key is ${AEAD_KEY_LEN} bytes`);
}

function deriveState(params: FloeParams, key: Uint8Array, iv: Uint8Array, aad: Uint8Array): FloeState {
  return {
    encSegLen: params.encSegLen,
    rotationMask: params.rotationMask ?? AEAD_ROTATION_MASK,
    messageKey: floeKdf(params, key, iv, aad, Buffer.from("MESSAGE_KEY:"), KDF_KEY_LEN),
    iv: Buffer.from(iv),
    aad: Buffer.from(aad),
  };
}

/** Spec startEncryption. `iv` may be fixed only by known-answer tests. */
export function startEncryption(
  key: Uint8Array,
  aad: Uint8Array,
  params: FloeParams,
  iv: Uint8Array = randomBytes(FLOE_IV_LEN),
): { state: FloeState; header: Buffer } {
  checkParams(params);
  checkKey(key);
  const tag = floeKdf(params, key, iv, aad, Buffer.from("HEADER_TAG:"), HEADER_TAG_LEN);
  return { state: deriveState(params, key, iv, aad), header: Buffer.concat([encodeParams(params), iv, tag]) };
}

/**
 * Spec startDecryption. The header tag check (constant time) is FLOE's key commitment:
 * a wrong key or AAD fails here, before any segment is touched.
 * @throws DecryptError on any mismatch.
 */
export function startDecryption(key: Uint8Array, aad: Uint8Array, params: FloeParams, header: Uint8Array): FloeState {
  checkParams(params);
  checkKey(key);
  if (header.length !== FLOE_HEADER_LEN) throw new DecryptError();
  const h = Buffer.from(header.buffer, header.byteOffset, header.byteLength);
  if (!h.subarray(0, PARAMS_LEN).equals(encodeParams(params))) throw new DecryptError();
  const iv = h.subarray(PARAMS_LEN, PARAMS_LEN + FLOE_IV_LEN);
  const expected = floeKdf(params, key, iv, aad, Buffer.from("HEADER_TAG:"), HEADER_TAG_LEN);
  if (!timingSafeEqual(expected, h.subarray(PARAMS_LEN + FLOE_IV_LEN))) throw new DecryptError();
  return deriveState(params, key, iv, aad);
}

const keyCache = new WeakMap<FloeState, { index: number; key: Buffer }>();

/** Spec DERIVE_KEY, cached per state: one HKDF per 2^rotationMask segments. */
function aeadKey(state: FloeState, position: number): Buffer {
  const masked = Math.floor(position / 2 ** state.rotationMask) * 2 ** state.rotationMask;
  const cached = keyCache.get(state);
  if (cached && cached.index === masked) return cached.key;
  const purpose = Buffer.alloc(12);
  purpose.write("DEK:", 0, "latin1");
  purpose.writeUIntBE(masked, 6, 6); // I2BE(…, 8): positions < 2^40 fit in the low 6 bytes
  const key = floeKdf({ encSegLen: state.encSegLen }, state.messageKey, state.iv, state.aad, purpose, AEAD_KEY_LEN);
  cached?.key.fill(0);
  keyCache.set(state, { index: masked, key });
  return key;
}

function segmentAad(position: number, isFinal: boolean): Buffer {
  const aad = Buffer.alloc(9);
  aad.writeUIntBE(position, 2, 6);
  aad[8] = isFinal ? 1 : 0;
  return aad;
}

/** Spec encryptOnlineSegment: position AEAD_MAX_SEGMENTS - 1 is reserved for a final segment. */
function checkPosition(position: number, isFinal: boolean): void {
  if (!Number.isInteger(position) || position < 0 || position > AEAD_MAX_SEGMENTS - 1 || (!isFinal && position === AEAD_MAX_SEGMENTS - 1)) {
    throw new RangeError("segment position out of range");
  }
}

/** Spec encryptSegment. A non-final segment carries exactly plainSegLen bytes; a final one at most that. */
export function encryptSegment(state: FloeState, plaintext: Uint8Array, position: number, isFinal: boolean): Buffer {
  const out = Buffer.allocUnsafe(SEGMENT_OVERHEAD + plaintext.length);
  encryptSegmentInto(state, plaintext, position, isFinal, out, 0, randomBytes(AEAD_IV_LEN));
  return out;
}

/**
 * encryptSegment writing into `out` at `offset` (SEGMENT_OVERHEAD + plaintext.length bytes),
 * with a caller-drawn random AEAD IV (spec: aead_iv = RND(AEAD_IV_LEN)), so that a batch can
 * draw all its IVs in one call and skip a copy per segment.
 */
export function encryptSegmentInto(
  state: FloeState,
  plaintext: Uint8Array,
  position: number,
  isFinal: boolean,
  out: Buffer,
  offset: number,
  iv: Uint8Array,
): number {
  checkPosition(position, isFinal);
  const max = state.encSegLen - SEGMENT_OVERHEAD;
  if (isFinal ? plaintext.length > max : plaintext.length !== max) {
    throw new RangeError(isFinal ? "final segment too long" : "a non-final segment must be full");
  }
  if (iv.length !== AEAD_IV_LEN) throw new RangeError(`the AEAD IV is ${AEAD_IV_LEN} bytes`);
  const total = SEGMENT_OVERHEAD + plaintext.length;
  const cipher = createCipheriv("aes-256-gcm", aeadKey(state, position), iv);
  cipher.setAAD(segmentAad(position, isFinal));
  out.writeUInt32BE(isFinal ? total : NON_FINAL_MARKER, offset);
  out.set(iv, offset + 4);
  out.set(cipher.update(plaintext), offset + 4 + AEAD_IV_LEN);
  cipher.final();
  out.set(cipher.getAuthTag(), offset + total - AEAD_TAG_LEN);
  return total;
}

/**
 * Spec decryptSegment. Releases plaintext only after the tag verifies.
 * @throws DecryptError for a wrong length field, wrong position, wrong finality or bad tag.
 */
export function decryptSegment(state: FloeState, segment: Uint8Array, position: number, isFinal: boolean): Buffer {
  checkPosition(position, isFinal);
  const seg = Buffer.from(segment.buffer, segment.byteOffset, segment.byteLength);
  if (isFinal) {
    if (seg.length < SEGMENT_OVERHEAD || seg.length > state.encSegLen) throw new DecryptError();
    if (seg.readUInt32BE(0) !== seg.length) throw new DecryptError();
  } else if (seg.length !== state.encSegLen || seg.readUInt32BE(0) !== NON_FINAL_MARKER) {
    throw new DecryptError();
  }
  const iv = seg.subarray(4, 4 + AEAD_IV_LEN);
  const tag = seg.subarray(seg.length - AEAD_TAG_LEN);
  return gcmDecrypt(aeadKey(state, position), iv, seg.subarray(4 + AEAD_IV_LEN, seg.length - AEAD_TAG_LEN), tag, segmentAad(position, isFinal));
}

/** True when the segment's length field marks it as the final one (spec decryptAnyOnlineSegment). */
export function isFinalSegment(segment: Uint8Array): boolean {
  return segment.length >= 4 && Buffer.from(segment.buffer, segment.byteOffset, 4).readUInt32BE(0) !== NON_FINAL_MARKER;
}

/** Wipes the derived keys of a state once a message is done. */
export function wipeState(state: FloeState): void {
  keyCache.get(state)?.key.fill(0);
  keyCache.delete(state);
  (state.messageKey as Buffer).fill(0);
}
