/**
 * The master (root) key of a local keystore and the sub-keys derived from it.
 *
 * Sources: a file `master.key` (32 random bytes, mode 0600) in the keystore home, or a
 * passphrase stretched with scrypt (RFC 7914; N=2^17, r=8, p=1; salt and parameters in
 * the keystore's `meta`). The root key itself is never used directly: HKDF-SHA256
 * (RFC 5869, empty salt since the input is already uniform, §3.1) derives one sub-key per
 * purpose, and a check value (HMAC of a fixed label under a third sub-key) lets a wrong key
 * or passphrase fail with MASTER_KEY_WRONG instead of producing garbage.
 *
 * Security guarantees: the root key is wiped as soon as the sub-keys are derived; the
 * sub-keys are wiped by `close()`. A master.key readable by group or others is refused.
 */
import { openKek, sealKek } from "./kek.js";
import type { RootKey } from "./root-key.js";
import { createHmac, hkdfSync, randomBytes, scrypt, timingSafeEqual } from "node:crypto";
import { promises as fs } from "node:fs";
import path from "node:path";
import { KeystoreError, UsageError } from "../errors.js";
import { trackTemp } from "../io/temp-files.js";
import { checkKeystoreFolder } from "./permissions.js";

export const MASTER_KEY_FILE = "master.key";
export const MASTER_KEY_BYTES = 32;

/** scrypt parameters for new passphrase keystores (memory ~128 MiB). */
export const SCRYPT_DEFAULTS = { N: 2 ** 17, r: 8, p: 1 } as const;

/** HKDF `info` labels: one per purpose, never reused. */
const INFO = {
  kek: "pipeseal/v1/kek-encryption",
  audit: "pipeseal/v1/audit-mac",
  check: "pipeseal/v1/master-check",
} as const;
const CHECK_LABEL = "pipeseal-master-check-v1";

/** scrypt parameters as stored in meta (`salt` is base64). */
export interface ScryptParams {
  readonly salt: string;
  readonly N: number;
  readonly r: number;
  readonly p: number;
}

/** Sub-keys derived from the root key. Internal to the keystore: never exported from the package. */
export class MasterKey implements RootKey {
  readonly #kek: Buffer;
  readonly #audit: Buffer;
  readonly #check: Buffer;
  #closed = false;

  private constructor(root: Buffer) {
    this.#kek = hkdf(root, INFO.kek);
    this.#audit = hkdf(root, INFO.audit);
    this.#check = hkdf(root, INFO.check);
  }

  /** Derives the sub-keys and wipes `root`. */
  static fromRoot(root: Buffer): MasterKey {
    try {
      if (root.length !== MASTER_KEY_BYTES) throw new KeystoreError("MASTER_KEY_UNAVAILABLE", "the master key has the wrong size");
      return new MasterKey(root);
    } finally {
      root.fill(0);
    }
  }

  /** Encrypts a KEK at rest with AES-256-GCM under a key derived from the master key. */
  sealKek(keyName: string, version: number, kek: Buffer): Buffer {
    return sealKek(this.#live(this.#kek), keyName, version, kek);
  }

  openKek(keyName: string, version: number, blob: Buffer): Buffer {
    return openKek(this.#live(this.#kek), keyName, version, blob);
  }

  /** HMAC-SHA256 of `data` under the audit-chain sub-key. */
  auditMac(data: Buffer): Buffer {
    return createHmac("sha256", this.#live(this.#audit)).update(data).digest();
  }

  /** Hex check value stored in meta at init. */
  checkValue(): string {
    return createHmac("sha256", this.#live(this.#check)).update(CHECK_LABEL).digest("hex");
  }

  /** Constant-time comparison with a stored check value. */
  matches(storedHex: string): boolean {
    const expected = Buffer.from(this.checkValue(), "hex");
    const stored = Buffer.from(storedHex, "hex");
    return stored.length === expected.length && timingSafeEqual(stored, expected);
  }

  /** Wipes the sub-keys. Idempotent. */
  close(): void {
    this.#kek.fill(0);
    this.#audit.fill(0);
    this.#check.fill(0);
    this.#closed = true;
  }

  #live(key: Buffer): Buffer {
    if (this.#closed) throw new KeystoreError("MASTER_KEY_UNAVAILABLE", "the keystore is closed");
    return key;
  }
}

function hkdf(root: Buffer, info: string): Buffer {
  return Buffer.from(hkdfSync("sha256", root, Buffer.alloc(0), info, 32));
}

/**
 * Creates `master.key` with 32 random bytes, atomically (temp file 0600 + fsync + rename +
 * directory fsync), and returns the bytes. Never overwrites an existing file.
 */
export async function createMasterKeyFile(home: string): Promise<Buffer> {
  const target = path.join(home, MASTER_KEY_FILE);
  const tmp = path.join(home, `.${MASTER_KEY_FILE}.${randomBytes(6).toString("hex")}.tmp`);
  const root = randomBytes(MASTER_KEY_BYTES);
  const untrack = trackTemp(tmp); // the root key: never left behind by a stop signal
  try {
    const handle = await fs.open(tmp, "wx", 0o600);
    try {
      await handle.writeFile(root);
      await handle.sync();
    } finally {
      await handle.close();
    }
    await fs.link(tmp, target); // fails if target exists: never replace a master key
    await fs.unlink(tmp);
    await fsyncDir(home);
    return root;
  } catch (e) {
    root.fill(0);
    await fs.rm(tmp, { force: true });
    if ((e as NodeJS.ErrnoException).code === "EEXIST") throw new KeystoreError("KEYSTORE_EXISTS", `${target} already exists`);
    throw new KeystoreError("IO_ERROR", `could not write ${target}`, { cause: e });
  } finally {
    untrack();
  }
}

/**
 * Loads `master.key`.
 * @throws KeystoreError(KEYSTORE_INSECURE) if its folder is writable by group or others;
 *   KeystoreError(MASTER_KEY_INSECURE) if group or others can read or write it;
 *   KeystoreError(MASTER_KEY_UNAVAILABLE) if it is missing, not a regular file, or not 32 bytes.
 */
export async function loadMasterKeyFile(home: string): Promise<Buffer> {
  checkKeystoreFolder(home); // whoever can write the folder can swap the key file
  const file = path.join(home, MASTER_KEY_FILE);
  let stat;
  try {
    stat = await fs.lstat(file);
  } catch (e) {
    throw new KeystoreError("MASTER_KEY_UNAVAILABLE", `the master key ${file} could not be read`, { cause: e });
  }
  if (!stat.isFile()) throw new KeystoreError("MASTER_KEY_UNAVAILABLE", `the master key ${file} is not a regular file`);
  if ((stat.mode & 0o077) !== 0) {
    throw new KeystoreError("MASTER_KEY_INSECURE", `the master key ${file} is accessible by group or others; run: chmod 600 ${file}`);
  }
  if (stat.size !== MASTER_KEY_BYTES) {
    throw new KeystoreError("MASTER_KEY_UNAVAILABLE", `the master key ${file} must be exactly ${MASTER_KEY_BYTES} bytes`);
  }
  const root = await fs.readFile(file);
  if (root.length !== MASTER_KEY_BYTES) {
    root.fill(0);
    throw new KeystoreError("MASTER_KEY_UNAVAILABLE", `the master key ${file} must be exactly ${MASTER_KEY_BYTES} bytes`);
  }
  return root;
}

/** Fresh scrypt parameters with a random 16-byte salt. */
export function newScryptParams(): ScryptParams {
  return { salt: randomBytes(16).toString("base64"), ...SCRYPT_DEFAULTS };
}

/**
 * Stretches a passphrase into a 32-byte root key (RFC 7914). Parameters come from meta, so
 * they are bounded to refuse a tampered database that would exhaust memory or time.
 */
export async function deriveFromPassphrase(passphrase: string, params: ScryptParams): Promise<Buffer> {
  if (typeof passphrase !== "string" || passphrase.length === 0) {
    throw new UsageError("INVALID_ARGUMENT", "the passphrase must be a non-empty string");
  }
  const { N, r, p } = params;
  const sane =
    Number.isSafeInteger(N) &&
    N >= 2 ** 14 &&
    N <= 2 ** 22 &&
    (N & (N - 1)) === 0 &&
    Number.isSafeInteger(r) &&
    r >= 1 &&
    r <= 32 &&
    Number.isSafeInteger(p) &&
    p >= 1 &&
    p <= 16;
  const salt = Buffer.from(params.salt ?? "", "base64");
  if (!sane || salt.length < 16) throw new KeystoreError("KEYSTORE_CORRUPT", "the stored scrypt parameters are invalid");
  // scrypt needs 128·N·r bytes (RFC 7914 §6); allow twice that for p and overhead.
  const maxmem = 256 * N * r * p;
  return new Promise((resolve, reject) => {
    scrypt(passphrase.normalize("NFC"), salt, MASTER_KEY_BYTES, { N, r, p, maxmem }, (err, key) => {
      if (err) reject(new KeystoreError("MASTER_KEY_UNAVAILABLE", "the passphrase could not be stretched", { cause: err }));
      else resolve(key);
    });
  });
}

export async function fsyncDir(dir: string): Promise<void> {
  const handle = await fs.open(dir, "r");
  try {
    await handle.sync();
  } finally {
    await handle.close();
  }
}
