/**
 * Independent reference reader/writer for the pipeseal sealed-file format (v2, and v1 of
 * Appendix A), written from
 * docs/format.md alone. It deliberately imports nothing from src/ — only node:crypto — and
 * shares no code with the library, so agreement between the two is evidence that the
 * document is complete. Section numbers (§) refer to docs/format.md.
 *
 * Not for production: it is written for clarity, reads whole buffers, and takes fixed IVs.
 */
import { createCipheriv, createDecipheriv, createHash, createHmac, timingSafeEqual } from "node:crypto";

/** Inputs of a vector (test/vectors/sealed/*.json `inputs`), hex decoded. */
export interface ReferenceKey {
  keyring: string;
  keyName: string;
  keyVersion: number;
  kek: Uint8Array;
  wrapIv: Uint8Array;
}

export interface ReferenceInputs {
  /** P: plaintext bytes per segment. */
  segmentSize: number;
  context: Record<string, string>;
  keys: ReferenceKey[];
  dataKey: Uint8Array;
  floeIv: Uint8Array;
  segmentIvs: Uint8Array[];
  plaintext: Uint8Array;
}

export interface ReferenceHeader {
  version: 1 | 2;
  encSegLen: number;
  context: [string, string][];
  /** `tag` in v2 only; `start`..`end` covers the entry's bytes before its tag. */
  entries: { keyring: string; keyName: string; keyVersion: number; wrapped: Buffer; tag?: Buffer; start: number; end: number }[];
  fixedPart: Buffer;
  /** §4: the fixed part with byte 5 = 01. */
  floeAad: Buffer;
  floeHeader: Buffer;
  headerLength: number;
}

/** Any failure of the reference reader. */
export class ReferenceError extends Error {}

const fail = (why: string): never => {
  throw new ReferenceError(why);
};

// §1 conventions ------------------------------------------------------------------------------

const u8 = (v: number) => Buffer.of(v);
const u16 = (v: number) => {
  const b = Buffer.alloc(2);
  b.writeUInt16BE(v);
  return b;
};
const u32 = (v: number) => {
  const b = Buffer.alloc(4);
  b.writeUInt32BE(v);
  return b;
};
/** I2BE(v, 8) for v < 2^53. */
const u64 = (v: number) => {
  const b = Buffer.alloc(8);
  b.writeBigUInt64BE(BigInt(v));
  return b;
};
const ascii = (s: string) => Buffer.from(s, "latin1");

/** RFC 5869 §2.3 HKDF-Expand with SHA-384; no Extract. */
function hkdfExpandSha384(prk: Uint8Array, info: Uint8Array, len: number): Buffer {
  const blocks: Buffer[] = [];
  let t = Buffer.alloc(0);
  for (let i = 1; blocks.length * 48 < len; i++) {
    t = createHmac("sha384", prk)
      .update(Buffer.concat([t, info, u8(i)]))
      .digest();
    blocks.push(t);
  }
  return Buffer.concat(blocks).subarray(0, len);
}

/** RFC 5869 HKDF-SHA-256 with its Extract step (§2.2) then Expand (§2.3), for §6. */
function hkdfSha256(ikm: Uint8Array, salt: Uint8Array, info: Uint8Array, len: number): Buffer {
  const prk = createHmac("sha256", salt).update(ikm).digest();
  const blocks: Buffer[] = [];
  let t = Buffer.alloc(0);
  for (let i = 1; blocks.length * 32 < len; i++) {
    t = createHmac("sha256", prk)
      .update(Buffer.concat([t, info, u8(i)]))
      .digest();
    blocks.push(t);
  }
  return Buffer.concat(blocks).subarray(0, len);
}

function gcmEncrypt(key: Uint8Array, iv: Uint8Array, plaintext: Uint8Array, aad: Uint8Array): { ct: Buffer; tag: Buffer } {
  const c = createCipheriv("aes-256-gcm", key, iv, { authTagLength: 16 });
  c.setAAD(aad);
  const ct = Buffer.concat([c.update(plaintext), c.final()]);
  return { ct, tag: c.getAuthTag() };
}

function gcmDecrypt(key: Uint8Array, iv: Uint8Array, ct: Uint8Array, aad: Uint8Array, tag: Uint8Array): Buffer {
  try {
    const d = createDecipheriv("aes-256-gcm", key, iv, { authTagLength: 16 });
    d.setAAD(aad);
    d.setAuthTag(tag);
    return Buffer.concat([d.update(ct), d.final()]);
  } catch {
    return fail("GCM authentication failed");
  }
}

/** Strict UTF-8: decode, then require the bytes to re-encode identically (no BOM stripping, no replacement). */
function utf8(bytes: Buffer): string {
  const s = bytes.toString("utf8");
  if (!Buffer.from(s, "utf8").equals(bytes)) fail("invalid UTF-8");
  return s;
}

// §3.2 context --------------------------------------------------------------------------------

const KEY_CHARS = /^[A-Za-z0-9_.:-]{1,128}$/;

function encodeContext(context: Record<string, string>): Buffer {
  const pairs = Object.entries(context).map(([k, v]) => [Buffer.from(k, "utf8"), Buffer.from(v, "utf8")] as const);
  pairs.sort((a, b) => Buffer.compare(a[0], b[0]));
  if (pairs.length > 64) fail("too many context pairs");
  const out: Buffer[] = [u16(pairs.length)];
  for (let i = 0; i < pairs.length; i++) {
    const [k, v] = pairs[i]!;
    if (!KEY_CHARS.test(k.toString("latin1"))) fail("bad context key");
    if (v.length > 1024) fail("context value too long");
    if (i > 0 && Buffer.compare(pairs[i - 1]![0], k) >= 0) fail("duplicate context key");
    out.push(u16(k.length), k, u16(v.length), v);
  }
  return Buffer.concat(out);
}

function decodeContext(bytes: Buffer): [string, string][] {
  let o = 0;
  const take = (n: number) => {
    if (o + n > bytes.length) fail("context truncated");
    const b = bytes.subarray(o, o + n);
    o += n;
    return b;
  };
  const count = take(2).readUInt16BE(0);
  if (count > 64) fail("too many context pairs");
  const pairs: [string, string][] = [];
  let previous: Buffer | undefined;
  for (let i = 0; i < count; i++) {
    const k = take(take(2).readUInt16BE(0));
    const v = take(take(2).readUInt16BE(0));
    if (!KEY_CHARS.test(k.toString("latin1"))) fail("bad context key");
    if (v.length > 1024) fail("context value too long");
    if (previous && Buffer.compare(previous, k) >= 0) fail("context keys not strictly increasing");
    previous = k;
    pairs.push([k.toString("latin1"), utf8(v)]);
  }
  if (o !== bytes.length) fail("bytes left over after the context");
  return pairs;
}

// §3.1 fixed part, §3.3 key block, §5 local wrap -------------------------------------------------

const MAGIC = ascii("PSEAL");

function paramEncode(encSegLen: number): Buffer {
  return Buffer.concat([u8(0), u8(0), u32(encSegLen), u32(32)]);
}

function fixedPart(version: 1 | 2, encSegLen: number, contextBytes: Buffer): Buffer {
  const f = 20 + contextBytes.length;
  if (f > 65536) fail("fixed part too long");
  return Buffer.concat([MAGIC, u8(version), u32(f), paramEncode(encSegLen), contextBytes]);
}

/** §4: the FLOE AAD is the fixed part with its version byte read as 01. */
function floeAadOf(fixed: Buffer): Buffer {
  const aad = Buffer.from(fixed);
  aad[5] = 1;
  return aad;
}

/** §5 (v2, with the object id) and Appendix A (v1, without). */
function wrapAad(keyring: string, keyName: string, keyVersion: number, contextBytes: Buffer, objectId?: Buffer): Buffer {
  const id = Buffer.from(keyring, "utf8");
  const name = Buffer.from(keyName, "utf8");
  const fields = [u8(id.length), id, u16(name.length), name, u32(keyVersion), contextBytes];
  return objectId ? Buffer.concat([ascii("pipeseal-wrap-v2"), ...fields, objectId]) : Buffer.concat([ascii("pipeseal-wrap-v1"), ...fields]);
}

/** §3.3: one entry without its tag. */
function entryBytes(e: { keyring: string; keyName: string; keyVersion: number; wrapped: Buffer }): Buffer {
  const id = Buffer.from(e.keyring, "utf8");
  const name = Buffer.from(e.keyName, "utf8");
  if (id.length < 1 || id.length > 64 || name.length < 1 || name.length > 255 || e.wrapped.length < 1 || e.wrapped.length > 1024) fail("entry field length");
  return Buffer.concat([u8(id.length), id, u16(name.length), name, u32(e.keyVersion), u16(e.wrapped.length), e.wrapped]);
}

/** §6: the tags of a key block, from the data key and the object id. */
function entryTags(dek: Uint8Array, objectId: Buffer, entries: { keyring: string; keyName: string; keyVersion: number; wrapped: Buffer }[]): Buffer[] {
  const key = hkdfSha256(dek, objectId, ascii("pipeseal-key-block-v2"), 32);
  const n = entries.length;
  return entries.map((e, j) => {
    const digest = createHash("sha256").update(entryBytes(e)).digest();
    return createHmac("sha256", key)
      .update(Buffer.concat([ascii("pipeseal-entry-tag-v2"), u8(n), u8(j), digest]))
      .digest();
  });
}

function keyBlock(entries: { keyring: string; keyName: string; keyVersion: number; wrapped: Buffer; tag?: Buffer }[]): Buffer {
  if (entries.length < 1 || entries.length > 8) fail("1..8 entries");
  const parts: Buffer[] = [u8(entries.length)];
  for (const e of entries) parts.push(entryBytes(e), ...(e.tag ? [e.tag] : []));
  const body = Buffer.concat(parts);
  if (4 + body.length > 16384) fail("key block too long");
  return Buffer.concat([u32(4 + body.length), body]);
}

// §4 FLOE ---------------------------------------------------------------------------------------

interface Floe {
  params: Buffer;
  iv: Buffer;
  aad: Buffer;
  messageKey: Buffer;
  encSegLen: number;
}

function floeKdf(f: Pick<Floe, "params" | "iv" | "aad">, key: Uint8Array, purpose: Buffer, len: number): Buffer {
  return hkdfExpandSha384(key, Buffer.concat([f.params, f.iv, purpose, f.aad]), len);
}

function segmentKey(f: Floe, position: number): Buffer {
  const masked = position - (position % 2 ** 20);
  return floeKdf(f, f.messageKey, Buffer.concat([ascii("DEK:"), u64(masked)]), 32);
}

const segmentAad = (position: number, final: boolean) => Buffer.concat([u64(position), u8(final ? 1 : 0)]);

function encryptSegment(f: Floe, plaintext: Buffer, position: number, final: boolean, iv: Uint8Array): Buffer {
  const { ct, tag } = gcmEncrypt(segmentKey(f, position), iv, plaintext, segmentAad(position, final));
  const total = 4 + 12 + ct.length + 16;
  return Buffer.concat([u32(final ? total : 0xffffffff), iv, ct, tag]);
}

function decryptSegment(f: Floe, seg: Buffer, position: number, final: boolean): Buffer {
  if (final) {
    if (seg.length < 32 || seg.length > f.encSegLen || seg.readUInt32BE(0) !== seg.length) fail("bad final segment");
  } else if (seg.length !== f.encSegLen || seg.readUInt32BE(0) !== 0xffffffff) {
    fail("bad non-final segment");
  }
  return gcmDecrypt(
    segmentKey(f, position),
    seg.subarray(4, 16),
    seg.subarray(16, seg.length - 16),
    segmentAad(position, final),
    seg.subarray(seg.length - 16),
  );
}

// §6 sealing ------------------------------------------------------------------------------------

/**
 * Seals with every random value taken from `inputs`; returns the complete file.
 * `trailingEmptyFinal` writes the other FLOE-valid body for a non-empty plaintext that is a
 * multiple of P: full non-final segments and then an empty final one (one more segment IV).
 * pipeseal never writes it, but §7 requires readers to accept it.
 */
export function referenceSeal(inputs: ReferenceInputs, options: { trailingEmptyFinal?: boolean; version?: 1 | 2 } = {}): Buffer {
  const version = options.version ?? 2;
  const P = inputs.segmentSize;
  const E = P + 32;
  if (E < 64 || E > 64 * 1024 * 1024) fail("segment size out of range");
  const ctx = encodeContext(inputs.context);
  const fixed = fixedPart(version, E, ctx);
  // §7: FLOE first (its header does not depend on the key block), then the object id, wraps, tags
  const base = { params: paramEncode(E), iv: Buffer.from(inputs.floeIv), aad: floeAadOf(fixed) };
  const floe: Floe = { ...base, encSegLen: E, messageKey: floeKdf(base, inputs.dataKey, ascii("MESSAGE_KEY:"), 48) };
  const floeHeader = Buffer.concat([base.params, base.iv, floeKdf(base, inputs.dataKey, ascii("HEADER_TAG:"), 32)]);
  const objectId = createHash("sha256").update(base.aad).update(floeHeader).digest();
  const wrapped = inputs.keys.map((k) => {
    const aad = wrapAad(k.keyring, k.keyName, k.keyVersion, ctx, version === 2 ? objectId : undefined);
    const { ct, tag } = gcmEncrypt(k.kek, k.wrapIv, inputs.dataKey, aad);
    return { keyring: k.keyring, keyName: k.keyName, keyVersion: k.keyVersion, wrapped: Buffer.concat([k.wrapIv, ct, tag]) };
  });
  const tags = version === 2 ? entryTags(inputs.dataKey, objectId, wrapped) : [];
  const entries = wrapped.map((e, j) => (version === 2 ? { ...e, tag: tags[j]! } : e));
  const pt = Buffer.from(inputs.plaintext);
  let n = Math.max(1, Math.ceil(pt.length / P));
  if (options.trailingEmptyFinal) {
    if (pt.length === 0 || pt.length % P !== 0) fail("trailingEmptyFinal needs a non-empty multiple of P");
    n += 1;
  }
  if (inputs.segmentIvs.length !== n) fail(`need ${n} segment IVs`);
  const segments = inputs.segmentIvs.map((iv, i) => encryptSegment(floe, pt.subarray(i * P, Math.min(pt.length, (i + 1) * P)), i, i === n - 1, iv));
  return Buffer.concat([fixed, keyBlock(entries), floeHeader, ...segments]);
}

// §7 opening ------------------------------------------------------------------------------------

/** Parses and validates the header (§3, §7 "Header"). */
export function referenceHeader(file: Uint8Array): ReferenceHeader {
  const b = Buffer.from(file.buffer, file.byteOffset, file.byteLength);
  if (b.length < 10 || !b.subarray(0, 5).equals(MAGIC)) fail("bad magic");
  if (b[5] !== 1 && b[5] !== 2) fail("unsupported version");
  const version = b[5] as 1 | 2;
  const F = b.readUInt32BE(6);
  if (F < 22 || F > 65536 || b.length < F + 4) fail("bad fixed-part length");
  if (b[10] !== 0 || b[11] !== 0 || b.readUInt32BE(16) !== 32) fail("unsupported FLOE parameters");
  const E = b.readUInt32BE(12);
  if (E < 64 || E > 64 * 1024 * 1024) fail("ENC_SEG_LEN out of range");
  const context = decodeContext(b.subarray(20, F));

  const K = b.readUInt32BE(F);
  if (K < 5 || K > 16384 || b.length < F + K + 74) fail("bad key-block length");
  const block = b.subarray(F, F + K);
  let o = 4;
  const take = (n: number) => {
    if (o + n > block.length) fail("key block truncated");
    const r = block.subarray(o, o + n);
    o += n;
    return r;
  };
  const N = take(1)[0]!;
  if (N < 1 || N > 8) fail("bad entry count");
  const entries: ReferenceHeader["entries"] = [];
  for (let i = 0; i < N; i++) {
    const start = F + o;
    const R = take(1)[0]!;
    if (R < 1 || R > 64) fail("bad keyring id length");
    const keyring = utf8(take(R));
    const L = take(2).readUInt16BE(0);
    if (L < 1 || L > 255) fail("bad key name length");
    const keyName = utf8(take(L));
    const keyVersion = take(4).readUInt32BE(0);
    const W = take(2).readUInt16BE(0);
    if (W < 1 || W > 1024) fail("bad wrapped length");
    const wrapped = Buffer.from(take(W));
    const end = F + o;
    entries.push(
      version === 2 ? { keyring, keyName, keyVersion, wrapped, tag: Buffer.from(take(32)), start, end } : { keyring, keyName, keyVersion, wrapped, start, end },
    );
  }
  if (o !== K) fail("bytes left over in the key block");

  const floeHeader = Buffer.from(b.subarray(F + K, F + K + 74));
  if (!floeHeader.subarray(0, 10).equals(b.subarray(10, 20))) fail("FLOE parameters differ");
  const fixed = Buffer.from(b.subarray(0, F));
  return { version, encSegLen: E, context, entries, fixedPart: fixed, floeAad: floeAadOf(fixed), floeHeader, headerLength: F + K + 74 };
}

/** SHA-256(FLOE AAD || FLOE header), hex (§9). */
export function referenceObjectId(file: Uint8Array): string {
  const h = referenceHeader(file);
  return createHash("sha256").update(h.floeAad).update(h.floeHeader).digest("hex");
}

interface Unlocked {
  b: Buffer;
  h: ReferenceHeader;
  floe: Floe;
  /** segment count, final segment length, plaintext length (§7) */
  n: number;
  S: number;
  L: number;
}

/**
 * §7 "Unlock" with one KEK of `keyring`: tries every entry of that keyring in order; the first
 * whose wrap opens under `kek` and whose header tag then verifies wins. Then the size rule.
 */
function unlock(file: Uint8Array, kek: Uint8Array, keyring: string): Unlocked {
  const b = Buffer.from(file.buffer, file.byteOffset, file.byteLength);
  const h = referenceHeader(b);
  const ctx = h.fixedPart.subarray(20);
  const base = { params: h.fixedPart.subarray(10, 20), iv: h.floeHeader.subarray(10, 42), aad: h.floeAad };
  const objectId = createHash("sha256").update(h.floeAad).update(h.floeHeader).digest();
  let floe: Floe | undefined;
  for (const e of h.entries.filter((x) => x.keyring === keyring)) {
    if (e.wrapped.length !== 60) continue;
    let dek: Buffer;
    try {
      dek = gcmDecrypt(
        kek,
        e.wrapped.subarray(0, 12),
        e.wrapped.subarray(12, 44),
        wrapAad(e.keyring, e.keyName, e.keyVersion, ctx, h.version === 2 ? objectId : undefined),
        e.wrapped.subarray(44),
      );
    } catch {
      continue;
    }
    if (h.version === 2) {
      // §6: every entry's tag, before the data key is used for anything
      const tags = entryTags(dek, objectId, h.entries);
      if (!tags.every((t, j) => timingSafeEqual(t, h.entries[j]!.tag!))) fail("the key block does not authenticate");
    }
    const tag = floeKdf(base, dek, ascii("HEADER_TAG:"), 32);
    if (timingSafeEqual(tag, h.floeHeader.subarray(42, 74))) {
      floe = { ...base, encSegLen: h.encSegLen, messageKey: floeKdf(base, dek, ascii("MESSAGE_KEY:"), 48) };
      break;
    }
  }
  if (!floe) return fail("no entry opens with this KEK");
  const E = h.encSegLen;
  const B = b.length - h.headerLength;
  if (B < 32) fail("no final segment");
  const n = Math.ceil(B / E);
  const S = B - (n - 1) * E;
  if (S < 32 || S > E) fail("bad final segment length");
  return { b, h, floe, n, S, L: (n - 1) * (E - 32) + (S - 32) };
}

function segment(u: Unlocked, i: number): Buffer {
  const E = u.h.encSegLen;
  const start = u.h.headerLength + i * E;
  const final = i === u.n - 1;
  return decryptSegment(u.floe, u.b.subarray(start, start + (final ? u.S : E)), i, final);
}

/** Opens a whole file (§7) with one KEK; throws ReferenceError on any failure. */
export function referenceOpen(file: Uint8Array, kek: Uint8Array, keyring = "local"): Buffer {
  const u = unlock(file, kek, keyring);
  const pt = Buffer.concat(Array.from({ length: u.n }, (_, i) => segment(u, i)));
  if (pt.length !== u.L) fail("length mismatch");
  return pt;
}

/**
 * Random-access read of plaintext [offset, offset + length) (§8): authenticates the final
 * segment (so L is proven), then decrypts only the segments the range touches.
 */
export function referenceRead(file: Uint8Array, kek: Uint8Array, offset: number, length: number, keyring = "local"): { plaintextLength: number; data: Buffer } {
  const u = unlock(file, kek, keyring);
  segment(u, u.n - 1);
  if (offset < 0 || length < 0 || offset + length > u.L) fail("range out of bounds");
  if (length === 0) return { plaintextLength: u.L, data: Buffer.alloc(0) };
  const P = u.h.encSegLen - 32;
  const first = Math.floor(offset / P);
  const last = Math.floor((offset + length - 1) / P);
  const parts: Buffer[] = [];
  for (let i = first; i <= last; i++) parts.push(segment(u, i));
  const start = offset - first * P;
  return { plaintextLength: u.L, data: Buffer.concat(parts).subarray(start, start + length) };
}
