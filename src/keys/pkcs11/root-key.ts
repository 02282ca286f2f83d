/**
 * A root key held in an HSM through PKCS#11: the keystore's KEKs are sealed and opened by
 * the token, and the audit chain is keyed by an HMAC key that never leaves it.
 *
 * Two token objects, generated inside the token and sharing one random CKA_ID:
 *   - `<label>`        AES-256 (CKM_AES_KEY_GEN): seals KEKs with CKM_AES_GCM;
 *   - `<label>.audit`  generic secret, 32 bytes (CKM_GENERIC_SECRET_KEY_GEN): CKM_SHA256_HMAC.
 * Both are CKA_TOKEN, CKA_PRIVATE, CKA_SENSITIVE, not CKA_EXTRACTABLE, not WRAP/UNWRAP/DERIVE,
 * and CKA_ALLOWED_MECHANISMS restricts each to its one mechanism (no ECB oracle for other
 * applications logged in to the token).
 *
 * KEK blobs have the format of src/keys/kek.ts (iv(12) || ciphertext(32) || tag(16), the same
 * AAD binding key name and version), only the AES key is inside the token. The IV is 12
 * random bytes from node's CSPRNG (GCM needs unique IVs; 2^-96 per pair of seals).
 *
 * Check value (stored in meta at init): hex( G || HMAC(audit, "pipeseal-hsm-check-v1" || G) )
 * where G is a GCM seal of 32 zero bytes with AAD "pipeseal-hsm-check-v1" under the AES key.
 * Opening verifies both, so a token whose AES or HMAC key was replaced is refused with
 * MASTER_KEY_WRONG. It is random per init; nothing about the keys can be learnt from it.
 *
 * Security guarantees: no root material exists outside the token; the PIN is used for
 * C_Login once per open and not kept by this object (a JS string cannot be wiped, so the
 * caller should drop its reference). One session and one login per open handle; close()
 * logs out (when no other handle of this process uses the token) and closes the session.
 * Finding the token, the session and login, and the object lookups live in session.ts.
 */
import { randomBytes, timingSafeEqual } from "node:crypto";
import { KeystoreError, UsageError } from "../../errors.js";
import { KEK_BLOB_BYTES, KEK_BYTES, kekAad } from "../kek.js";
import type { RootKey } from "../root-key.js";
import { type Handle, type Pkcs11, ckrName, pkcs11js, releaseLogin, releaseModule } from "./module.js";
import { AUDIT_SUFFIX, type OpenSession, type Pkcs11Login, destroyQuietly, findKeys, idOf, keyLabelOf, one, protectedInToken, withSession } from "./session.js";

const IV_BYTES = 12;
const TAG_BITS = 128;
const CHECK_LABEL = Buffer.from("pipeseal-hsm-check-v1", "utf8");
const CHECK_BYTES = IV_BYTES + 32 + 16 + 32;
/** PKCS#11 return values that mean the token or session is gone, not that the data is bad. */
const UNAVAILABLE = new Set([
  "CKR_SESSION_HANDLE_INVALID",
  "CKR_SESSION_CLOSED",
  "CKR_DEVICE_REMOVED",
  "CKR_DEVICE_ERROR",
  "CKR_DEVICE_MEMORY",
  "CKR_TOKEN_NOT_PRESENT",
  "CKR_TOKEN_NOT_RECOGNIZED",
  "CKR_USER_NOT_LOGGED_IN",
  "CKR_CRYPTOKI_NOT_INITIALIZED",
  "CKR_KEY_HANDLE_INVALID",
  "CKR_OBJECT_HANDLE_INVALID",
  "CKR_MECHANISM_INVALID",
  "CKR_KEY_FUNCTION_NOT_PERMITTED",
  "CKR_KEY_TYPE_INCONSISTENT",
  "CKR_FUNCTION_FAILED",
  "CKR_HOST_MEMORY",
]);

/** The non-secret description of an HSM root recorded in the keystore's meta. */
export interface Pkcs11RootInfo {
  readonly module: string;
  readonly token: string;
  readonly slot: number | null;
  readonly keyLabel: string;
  /** Hex CKA_ID shared by the AES and HMAC objects. */
  readonly keyId: string;
}

export class Pkcs11RootKey implements RootKey {
  readonly #p11: Pkcs11;
  readonly #moduleKey: string;
  readonly #slot: Handle;
  readonly #session: Handle;
  readonly #aes: Handle;
  readonly #hmac: Handle;
  readonly #info: Pkcs11RootInfo;
  #closed = false;

  private constructor(p11: Pkcs11, moduleKey: string, slot: Handle, session: Handle, aes: Handle, hmac: Handle, info: Pkcs11RootInfo) {
    this.#p11 = p11;
    this.#moduleKey = moduleKey;
    this.#slot = slot;
    this.#session = session;
    this.#aes = aes;
    this.#hmac = hmac;
    this.#info = info;
  }

  /**
   * Generates the AES and HMAC root keys inside the token.
   * @throws KeystoreError(MASTER_KEY_UNAVAILABLE) for a missing module or token, a refused PIN;
   *   KeystoreError(KEYSTORE_EXISTS) if the token already holds a key with that label.
   */
  static generate(login: Pkcs11Login): Pkcs11RootKey {
    return withSession(login, (s) => {
      const label = keyLabelOf(login);
      if (findKeys(s, label, null).length > 0 || findKeys(s, label + AUDIT_SUFFIX, null).length > 0) {
        throw new KeystoreError(
          "KEYSTORE_EXISTS",
          `the token "${s.tokenLabel}" already holds a key labelled "${label}"; choose another --key-label (keys in an HSM are never overwritten)`,
        );
      }
      const id = randomBytes(16);
      const P = pkcs11js();
      const common = [
        { type: P.CKA_CLASS, value: P.CKO_SECRET_KEY },
        { type: P.CKA_VALUE_LEN, value: 32 },
        { type: P.CKA_TOKEN, value: true },
        { type: P.CKA_PRIVATE, value: true },
        { type: P.CKA_SENSITIVE, value: true },
        { type: P.CKA_EXTRACTABLE, value: false },
        { type: P.CKA_MODIFIABLE, value: false },
        { type: P.CKA_WRAP, value: false },
        { type: P.CKA_UNWRAP, value: false },
        { type: P.CKA_DERIVE, value: false },
        { type: P.CKA_ID, value: id },
      ];
      let aes: Handle | undefined;
      try {
        aes = s.p11.C_GenerateKey(s.session, { mechanism: P.CKM_AES_KEY_GEN }, [
          ...common,
          { type: P.CKA_KEY_TYPE, value: P.CKK_AES },
          { type: P.CKA_LABEL, value: label },
          { type: P.CKA_ENCRYPT, value: true },
          { type: P.CKA_DECRYPT, value: true },
          { type: P.CKA_SIGN, value: false },
          { type: P.CKA_VERIFY, value: false },
          { type: P.CKA_ALLOWED_MECHANISMS, value: mechanisms(P.CKM_AES_GCM) },
        ]);
        const hmac = s.p11.C_GenerateKey(s.session, { mechanism: P.CKM_GENERIC_SECRET_KEY_GEN }, [
          ...common,
          { type: P.CKA_KEY_TYPE, value: P.CKK_GENERIC_SECRET },
          { type: P.CKA_LABEL, value: label + AUDIT_SUFFIX },
          { type: P.CKA_ENCRYPT, value: false },
          { type: P.CKA_DECRYPT, value: false },
          { type: P.CKA_SIGN, value: true },
          { type: P.CKA_VERIFY, value: true },
          { type: P.CKA_ALLOWED_MECHANISMS, value: mechanisms(P.CKM_SHA256_HMAC) },
        ]);
        return Pkcs11RootKey.#make(s, login, aes, hmac, id.toString("hex"));
      } catch (e) {
        if (aes !== undefined) destroyQuietly(s.p11, s.session, aes);
        throw new KeystoreError(
          "MASTER_KEY_UNAVAILABLE",
          `the token "${s.tokenLabel}" could not generate the root keys (${ckrName(e) ?? "error"}); it must support CKM_AES_KEY_GEN, CKM_GENERIC_SECRET_KEY_GEN, CKM_AES_GCM and CKM_SHA256_HMAC`,
          { cause: e },
        );
      }
    });
  }

  /**
   * Finds the root keys in the token and logs in.
   * @param keyId the CKA_ID recorded at init (hex); null to match by label only.
   * @throws KeystoreError(MASTER_KEY_UNAVAILABLE) for a missing module, token or key, or a refused PIN;
   *   KeystoreError(MASTER_KEY_INSECURE) if a root key in the token is extractable or not sensitive.
   */
  static open(login: Pkcs11Login, keyId: string | null = null): Pkcs11RootKey {
    return withSession(login, (s) => {
      const label = keyLabelOf(login);
      const id = keyId === null ? null : Buffer.from(keyId, "hex");
      const aes = one(s, findKeys(s, label, id), label);
      const hmac = one(s, findKeys(s, label + AUDIT_SUFFIX, id), label + AUDIT_SUFFIX);
      for (const [h, l] of [
        [aes, label],
        [hmac, label + AUDIT_SUFFIX],
      ] as const) {
        if (!protectedInToken(s.p11, s.session, h)) {
          throw new KeystoreError(
            "MASTER_KEY_INSECURE",
            `the key "${l}" on token "${s.tokenLabel}" is extractable or not sensitive; generate a new root (pipeseal init --hsm) instead of using it`,
          );
        }
      }
      return Pkcs11RootKey.#make(s, login, aes, hmac, keyId ?? idOf(s.p11, s.session, aes));
    });
  }

  /** Module, token, key label and CKA_ID: what the keystore records (never the PIN). */
  get info(): Pkcs11RootInfo {
    return this.#info;
  }

  sealKek(keyName: string, version: number, kek: Buffer): Buffer {
    if (kek.length !== KEK_BYTES) throw new UsageError("INVALID_ARGUMENT", `a KEK is ${KEK_BYTES} bytes`);
    return this.#seal(kek, kekAad(keyName, version));
  }

  openKek(keyName: string, version: number, blob: Buffer): Buffer {
    const corrupt = () => new KeystoreError("KEYSTORE_CORRUPT", `the stored KEK of ${keyName} v${version} does not authenticate`);
    if (blob.length !== KEK_BLOB_BYTES) throw corrupt();
    const out = this.#open(blob, kekAad(keyName, version));
    if (out === null) throw corrupt();
    return out;
  }

  /** HMAC-SHA256 computed by the token (CKM_SHA256_HMAC, C_Sign). */
  auditMac(data: Buffer): Buffer {
    const P = pkcs11js();
    this.#live();
    try {
      this.#p11.C_SignInit(this.#session, { mechanism: P.CKM_SHA256_HMAC }, this.#hmac);
      return Buffer.from(this.#p11.C_Sign(this.#session, data, Buffer.alloc(32)));
    } catch (e) {
      throw this.#unavailable("could not compute an audit MAC", e);
    }
  }

  /** A fresh check value (random per call; see the module comment). */
  checkValue(): string {
    const sealed = this.#seal(Buffer.alloc(32), CHECK_LABEL);
    return Buffer.concat([sealed, this.auditMac(Buffer.concat([CHECK_LABEL, sealed]))]).toString("hex");
  }

  /** True if `storedHex` was made by these two token keys. */
  matches(storedHex: string): boolean {
    if (typeof storedHex !== "string" || !/^[0-9a-f]*$/.test(storedHex)) return false;
    const stored = Buffer.from(storedHex, "hex");
    if (stored.length !== CHECK_BYTES) return false;
    const sealed = stored.subarray(0, CHECK_BYTES - 32);
    const mac = this.auditMac(Buffer.concat([CHECK_LABEL, sealed]));
    if (!timingSafeEqual(mac, stored.subarray(CHECK_BYTES - 32))) return false;
    const plain = this.#open(sealed, CHECK_LABEL);
    return plain !== null && plain.length === 32 && plain.every((b) => b === 0);
  }

  /**
   * Deletes both root keys from the token (used when an init fails after generating them).
   * Everything sealed under them becomes unreadable. Closes the handle.
   */
  destroyInToken(): void {
    this.#live();
    destroyQuietly(this.#p11, this.#session, this.#aes);
    destroyQuietly(this.#p11, this.#session, this.#hmac);
    this.close();
  }

  /** Logs out (last handle of this process on the token), closes the session, releases the module. Idempotent. */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    releaseLogin(this.#moduleKey, this.#slot, this.#session);
    try {
      this.#p11.C_CloseSession(this.#session);
    } catch {
      // best effort
    }
    releaseModule(this.#moduleKey);
  }

  #seal(plaintext: Buffer, aad: Buffer): Buffer {
    this.#live();
    const iv = randomBytes(IV_BYTES);
    try {
      this.#p11.C_EncryptInit(this.#session, gcm(iv, aad), this.#aes);
      const out = this.#p11.C_Encrypt(this.#session, plaintext, Buffer.alloc(plaintext.length + 16));
      if (out.length !== plaintext.length + 16) throw new Error(`unexpected GCM output length ${out.length}`);
      return Buffer.concat([iv, out]);
    } catch (e) {
      throw this.#unavailable("could not seal a key", e);
    }
  }

  /** The plaintext, or null if the blob does not authenticate. */
  #open(blob: Buffer, aad: Buffer): Buffer | null {
    this.#live();
    if (blob.length < IV_BYTES + 16) return null;
    const iv = blob.subarray(0, IV_BYTES);
    try {
      this.#p11.C_DecryptInit(this.#session, gcm(iv, aad), this.#aes);
      const body = blob.subarray(IV_BYTES);
      const out = Buffer.alloc(body.length);
      const plain = this.#p11.C_Decrypt(this.#session, body, out);
      const result = Buffer.from(plain);
      out.fill(0);
      return result;
    } catch (e) {
      // A bad tag is CKR_ENCRYPTED_DATA_INVALID (or CKR_GENERAL_ERROR on SoftHSM2): tell it
      // apart from a lost session or token by asking whether the session still works.
      const code = ckrName(e);
      if (code !== null && UNAVAILABLE.has(code)) throw this.#unavailable("could not open a key", e);
      if (!this.#sessionAlive()) throw this.#unavailable("could not open a key", e);
      return null;
    }
  }

  #sessionAlive(): boolean {
    try {
      // CKS_RO_USER_FUNCTIONS = 1, CKS_RW_USER_FUNCTIONS = 3 (PKCS#11 v2.40 §5.6; pkcs11js does not export CKS_*)
      const state = this.#p11.C_GetSessionInfo(this.#session).state;
      return state === 1 || state === 3;
    } catch {
      return false;
    }
  }

  #unavailable(what: string, e: unknown): KeystoreError {
    if (e instanceof KeystoreError || e instanceof UsageError) return e;
    return new KeystoreError(
      "MASTER_KEY_UNAVAILABLE",
      `the HSM ${what} (${ckrName(e) ?? (e instanceof Error ? e.message : "error")}) with token "${this.#info.token}"; if the token was removed or the HSM restarted, reopen the keystore`,
      { cause: e },
    );
  }

  #live(): void {
    if (this.#closed) throw new KeystoreError("MASTER_KEY_UNAVAILABLE", "the keystore is closed");
  }

  /** The root key over a session withSession opened, which it then owns (close() ends it). */
  static #make(s: OpenSession, login: Pkcs11Login, aes: Handle, hmac: Handle, keyId: string): Pkcs11RootKey {
    const info: Pkcs11RootInfo = { module: login.module, token: s.tokenLabel, slot: login.slot ?? null, keyLabel: keyLabelOf(login), keyId };
    return new Pkcs11RootKey(s.p11, s.moduleKey, s.slot, s.session, aes, hmac, info);
  }
}

function gcm(iv: Buffer, aad: Buffer) {
  const P = pkcs11js();
  return { mechanism: P.CKM_AES_GCM, parameter: { type: P.CK_PARAMS_AES_GCM, iv, aad, ivBits: IV_BYTES * 8, tagBits: TAG_BITS } };
}

/** CKA_ALLOWED_MECHANISMS value: an array of CK_MECHANISM_TYPE (CK_ULONG, native width and order). */
function mechanisms(...types: number[]): Buffer {
  const out = Buffer.alloc(8 * types.length);
  types.forEach((t, i) =>
    process.arch === "s390x" || process.arch === "ppc64" ? out.writeBigUInt64BE(BigInt(t), i * 8) : out.writeBigUInt64LE(BigInt(t), i * 8),
  );
  return out;
}
