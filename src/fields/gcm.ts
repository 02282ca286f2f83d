/**
 * Randomized field encryption (`encrypt`, docs/fields.md): AES-256-GCM (NIST SP 800-38D) with
 * a random 96-bit IV per value (§8.2.2), the associated data binding the key, its version, the
 * concrete field path and the record id, and a 128-bit tag. Internal; one per run.
 *
 *   aad     = aadPrefix (`pse1:e:<keyref>:` ‖ u32 version) ‖ u32 len ‖ path ‖ u32 len ‖ record id
 *   payload = iv(12) ‖ ciphertext ‖ tag(16), base64url-encoded once after the key's value prefix
 *
 * The plaintext, AAD and payload are assembled in buffers reused value after value (setAAD and
 * update consume them at once) and wiped by `wipe()`; IVs come from a randomFillSync pool.
 *
 * Security guarantees: a value moved to another field, record or array position, altered in
 * any bit, or opened under another key or version fails (DECRYPT_FAILED). Leaks the length.
 * One key version takes at most 2^32 values (§8.3): counted per process, see docs/fields.md.
 */
import { createCipheriv, createDecipheriv, randomFillSync } from "node:crypto";
import { FieldError } from "./errors.js";
import type { FieldKey } from "./keys.js";
import { encodePlain, encodePlainInto } from "./value-format.js";

const IV_POOL = 12 * 4096;

export class FieldGcm {
  readonly #ivs = Buffer.alloc(IV_POOL);
  #ivOff = IV_POOL;
  #plainBuf = Buffer.alloc(256);
  #aadBuf = Buffer.alloc(256);
  #outBuf = Buffer.alloc(256);

  /** Per field path of the run (a few, for top-level rules): `aadPrefix ‖ u32 len ‖ path` written once. */
  readonly #byPath = new Map<string, { key: FieldKey; buf: Buffer; idAt: number }>();

  /** The AAD in a reused buffer (valid until the next call). */
  #aad(key: FieldKey, path: string, recordId: string): Buffer {
    const cached = this.#byPath.get(path);
    if (cached !== undefined && cached.key === key && cached.idAt + 4 + 3 * recordId.length <= cached.buf.length) {
      const r = cached.buf.write(recordId, cached.idAt + 4, "utf8");
      cached.buf.writeUInt32BE(r, cached.idAt);
      return cached.buf.subarray(0, cached.idAt + 4 + r);
    }
    const aad = this.#build(key, path, recordId);
    if (cached === undefined && this.#byPath.size < 64 && recordId.length < 256) {
      const idAt = aad.length - 4 - Buffer.byteLength(recordId, "utf8");
      const buf = Buffer.alloc(idAt + 4 + 3 * 256);
      aad.copy(buf, 0, 0, idAt);
      this.#byPath.set(path, { key, buf, idAt });
    }
    return aad;
  }

  #build(key: FieldKey, path: string, recordId: string): Buffer {
    const need = key.aadPrefix.length + 8 + 3 * (path.length + recordId.length);
    if (need > this.#aadBuf.length) this.#aadBuf = Buffer.alloc(2 * need);
    const aad = this.#aadBuf;
    let o = key.aadPrefix.copy(aad, 0);
    const p = aad.write(path, o + 4, "utf8");
    aad.writeUInt32BE(p, o);
    o += 4 + p;
    const r = aad.write(recordId, o + 4, "utf8");
    aad.writeUInt32BE(r, o);
    return aad.subarray(0, o + 4 + r);
  }

  /** `pse1:e:…` of typed plaintext bytes. */
  seal(key: FieldKey, plain: Buffer, path: string, recordId: string): string {
    if (this.#ivOff >= IV_POOL) {
      // refilled in place: createCipheriv copies its IV, and `out` has its own copy
      randomFillSync(this.#ivs);
      this.#ivOff = 0;
    }
    const iv = this.#ivs.subarray(this.#ivOff, (this.#ivOff += 12));
    const c = createCipheriv("aes-256-gcm", key.raw, iv);
    c.setAAD(this.#aad(key, path, recordId));
    const total = 12 + plain.length + 16;
    if (total > this.#outBuf.length) this.#outBuf = Buffer.alloc(2 * total);
    const out = this.#outBuf;
    iv.copy(out, 0);
    c.update(plain).copy(out, 12);
    c.final();
    c.getAuthTag().copy(out, 12 + plain.length);
    return key.valuePrefix + out.toString("base64url", 0, total);
  }

  /** `seal` of a field value, typed as encodePlain types it (strings without an allocation). @throws FieldError */
  sealValue(key: FieldKey, value: unknown, path: string, recordId: string, where: { row: number; field: string }): string {
    const length = encodePlainInto(value, this.#plainBuf);
    return this.seal(key, length >= 0 ? this.#plainBuf.subarray(0, length) : encodePlain(value, where), path, recordId);
  }

  /** The typed plaintext of a parsed `e` payload. @throws FieldError(DECRYPT_FAILED) */
  open(key: FieldKey, payload: Buffer, path: string, recordId: string, where: { row: number; field: string }): Buffer {
    if (payload.length < 28) throw new FieldError("FIELD_MALFORMED", "the payload is too short (truncated)", where); // readValue checks it first
    const d = createDecipheriv("aes-256-gcm", key.raw, payload.subarray(0, 12), { authTagLength: 16 });
    d.setAAD(this.#aad(key, path, recordId));
    d.setAuthTag(payload.subarray(payload.length - 16));
    const out = d.update(payload.subarray(12, payload.length - 16));
    try {
      d.final();
    } catch {
      out.fill(0);
      throw new FieldError("DECRYPT_FAILED", "the value could not be authenticated (altered, moved to another field or record, or another key)", where);
    }
    return out;
  }

  wipe(): void {
    for (const { buf } of this.#byPath.values()) buf.fill(0);
    this.#byPath.clear();
    this.#plainBuf.fill(0);
    this.#aadBuf.fill(0);
    this.#outBuf.fill(0);
  }
}
