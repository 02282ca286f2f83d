/**
 * Per-run key material for field actions. Named keys come from `Keyring.deriveFieldKey`
 * (audited once per key version and purpose); per-subject keys from src/fields/subjects.
 * Everything derived is cached for the run and wiped by `close()`.
 */
import { createHmac, hkdfSync } from "node:crypto";
import { AesSiv } from "../crypto/aes-siv.js";
import { Ff1 } from "../crypto/ff1.js";
import type { AuditObject, Keyring } from "../keys/keyring.js";
import { FieldError } from "./errors.js";
import { isErased, subjectKeys, type SubjectKeyring } from "./subjects/index.js";

/** The key objects one (key, version, purpose) yields. */
export interface FieldKey {
  readonly keyRef: string;
  readonly version: number;
  readonly raw: Buffer;
  siv(): AesSiv;
  ff1(radix: number): Ff1;
  /** AAD prefix for randomized encryption, precomputed per key. */
  readonly aadPrefix: Buffer;
  /** `pse1:<action>:<keyref>:<version>:`, the text before a value's payload. */
  readonly valuePrefix: string;
}

export const ERASED = Symbol("erased");

function makeKey(keyRef: string, version: number, raw: Buffer, action: "e" | "d" | "t" | "p"): FieldKey {
  let siv: AesSiv | undefined;
  const ff1s = new Map<number, Ff1>();
  const head = Buffer.from(`pse1:${action}:${keyRef}:`, "utf8");
  const v = Buffer.alloc(4);
  v.writeUInt32BE(version);
  return {
    keyRef,
    version,
    raw,
    aadPrefix: Buffer.concat([head, v]),
    valuePrefix: `pse1:${action}:${keyRef}:${version}:`,
    siv() {
      // AES-256-SIV needs 64 bytes: expanded from the 32-byte field key (RFC 5869)
      siv ??= new AesSiv(Buffer.from(hkdfSync("sha256", raw, Buffer.alloc(0), "pipeseal-field-v1:aes-siv", 64)));
      return siv;
    },
    ff1(radix: number) {
      let f = ff1s.get(radix);
      if (!f) ff1s.set(radix, (f = new Ff1(raw, radix)));
      return f;
    },
  };
}

export class FieldKeys {
  readonly #keyring: Keyring;
  readonly #object: AuditObject;
  readonly #named = new Map<string, Promise<FieldKey>>();
  readonly #subject = new Map<string, Promise<FieldKey | typeof ERASED>>();
  readonly #raws: Buffer[] = [];
  readonly #resolved = new Map<string, FieldKey>();

  constructor(keyring: Keyring, object: AuditObject) {
    this.#keyring = keyring;
    this.#object = object;
  }

  /** A named key; `purpose` is the action ("encrypt", "deterministic", "tokenize", "pseudonymize"). */
  named(keyName: string, version: number | "primary", purpose: string): Promise<FieldKey> {
    const id = `${keyName}\0${version}\0${purpose}`;
    let p = this.#named.get(id);
    if (!p) {
      p = this.#keyring.deriveFieldKey(keyName, version, `field-${purpose}`, this.#object).then(({ key, version: v }) => {
        this.#raws.push(key);
        const made = makeKey(keyName, v, key, purpose[0] as "e" | "d" | "t" | "p");
        this.#resolved.set(id, made);
        return made;
      });
      p.catch(() => this.#named.delete(id));
      this.#named.set(id, p);
    }
    return p;
  }

  /** The key `named` resolved earlier in this run, without waiting (undefined if not derived yet). */
  namedNow(keyName: string, version: number | "primary", purpose: string): FieldKey | undefined {
    return this.#resolved.get(`${keyName}\0${version}\0${purpose}`);
  }

  #subjects() {
    const ks = this.#keyring as unknown as SubjectKeyring;
    if (typeof (ks as Partial<SubjectKeyring>).auditedChange !== "function") {
      throw new FieldError("INVALID_ARGUMENT", "per-subject keys (rule `subject:`) need the local keystore");
    }
    return subjectKeys(ks);
  }

  /** The subject's key for apply (minted on first use), or ERASED. */
  subjectForApply(namespace: string, subjectId: string, purpose: string): Promise<FieldKey | typeof ERASED> {
    return this.#cacheSubject(`a\0${namespace}\0${subjectId}\0${purpose}`, async () => {
      const r = await this.#subjects().key(namespace, subjectId, `field-${purpose}`);
      if (isErased(r)) return ERASED;
      return this.#subjectKey(r.keyId, r.version, r.key, purpose);
    });
  }

  /** The subject key a value names (`@ns~ref`, version), or ERASED. */
  subjectForReveal(keyRef: string, version: number, purpose: string): Promise<FieldKey | typeof ERASED> {
    return this.#cacheSubject(`r\0${keyRef}\0${version}\0${purpose}`, async () => {
      const keyId = keyRef.slice(1).replace("~", ":");
      const r = await this.#subjects().keyByRef(keyId, version, `field-${purpose}`);
      if (isErased(r)) return ERASED;
      return this.#subjectKey(r.keyId, r.version, r.key, purpose);
    });
  }

  /** The key reference (`@ns~ref`) values sealed for `subjectId` in `namespace` carry; null if the namespace does not exist. */
  async subjectRef(namespace: string, subjectId: string): Promise<string | null> {
    const keyId = await this.#subjects().keyIdOf(namespace, subjectId);
    return keyId === null ? null : "@" + keyId.replace(":", "~");
  }

  #subjectKey(keyId: string, version: number, key: Buffer, purpose: string): FieldKey {
    const raw = Buffer.from(key);
    key.fill(0);
    this.#raws.push(raw);
    return makeKey("@" + keyId.replace(":", "~"), version, raw, purpose[0] as "e" | "d");
  }

  #cacheSubject(id: string, make: () => Promise<FieldKey | typeof ERASED>): Promise<FieldKey | typeof ERASED> {
    let p = this.#subject.get(id);
    if (!p) {
      p = make();
      p.catch(() => this.#subject.delete(id));
      this.#subject.set(id, p);
      if (this.#subject.size > 100_000) this.#subject.delete(this.#subject.keys().next().value as string);
    }
    return p;
  }

  /** Wipes every key derived in this run. */
  close(): void {
    for (const k of this.#raws) k.fill(0);
    this.#raws.length = 0;
    this.#named.clear();
    this.#resolved.clear();
    this.#subject.clear();
  }
}

/** HMAC-SHA-256 pseudonym, base64url, truncated to `length` characters (≥ 48 bits at length 8). */
export function pseudonym(key: FieldKey, value: string, length: number, prefix: string): string {
  return prefix + createHmac("sha256", key.raw).update(value, "utf8").digest("base64url").slice(0, length);
}
