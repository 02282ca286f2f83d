/**
 * How a keystore records and finds its HSM root: the non-secret location in `meta`
 * (`master_source = pkcs11`, `master_pkcs11` = JSON of {@link Pkcs11RootInfo}), the PIN from
 * a file or an opted-in variable (never argv, never stored), and PIPESEAL_PKCS11_* overrides.
 */
import Database from "better-sqlite3";
import { KeystoreError, UsageError } from "../../errors.js";
import { readSecretFile } from "../../io/secret-file.js";
import { type Pkcs11RootInfo, Pkcs11RootKey } from "./root-key.js";
import type { Pkcs11Location, Pkcs11Login } from "./session.js";

/** Meta key holding the JSON {@link Pkcs11RootInfo}. */
export const PKCS11_META = "master_pkcs11";

/** What `openKeystore` takes for an HSM keystore: the PIN, and optional overrides of the recorded location. */
export interface Pkcs11OpenOptions {
  readonly pin: string;
  /** Module path on this machine when it differs from the one recorded at init. */
  readonly module?: string;
  /** Token label when it differs (e.g. a replica's HSM partition). */
  readonly token?: string;
  readonly slot?: number;
}

/** The recorded location of a keystore's HSM root (parsed from meta). */
export function parsePkcs11Meta(json: string | null): Pkcs11RootInfo {
  let v: unknown;
  try {
    v = JSON.parse(json ?? "null");
  } catch {
    v = null;
  }
  const o = v as Record<string, unknown> | null;
  if (
    o === null ||
    typeof o !== "object" ||
    typeof o.module !== "string" ||
    typeof o.token !== "string" ||
    typeof o.keyLabel !== "string" ||
    typeof o.keyId !== "string" ||
    !/^[0-9a-f]{2,64}$/.test(o.keyId) ||
    !(o.slot === null || Number.isSafeInteger(o.slot))
  ) {
    throw new KeystoreError("KEYSTORE_CORRUPT", "the keystore's HSM root description is missing or malformed");
  }
  return { module: o.module, token: o.token, slot: o.slot as number | null, keyLabel: o.keyLabel, keyId: o.keyId };
}

/**
 * Opens the HSM root recorded in meta.
 * @throws KeystoreError(MASTER_KEY_UNAVAILABLE) without a PIN (the keystore cannot be opened without its HSM), or as Pkcs11RootKey.open.
 */
export function openPkcs11Root(metaJson: string | null, given: Pkcs11OpenOptions | undefined): Pkcs11RootKey {
  const info = parsePkcs11Meta(metaJson);
  if (given === undefined || given === null) {
    throw new KeystoreError(
      "MASTER_KEY_UNAVAILABLE",
      `this keystore's root key is in an HSM (token "${info.token}", key "${info.keyLabel}", module ${info.module}); open it with the token's user PIN (CLI: PIPESEAL_PKCS11_PIN_FILE)`,
    );
  }
  const login: Pkcs11Login = {
    module: given.module ?? info.module,
    token: given.token ?? info.token,
    ...(given.slot !== undefined ? { slot: given.slot } : info.slot !== null && given.token === undefined ? { slot: info.slot } : {}),
    keyLabel: info.keyLabel,
    pin: given.pin,
  };
  return Pkcs11RootKey.open(login, info.keyId);
}

/**
 * How the keystore in `home` keeps its root ("file", "passphrase", "pkcs11"), read without
 * opening the keystore, and the HSM location when it is "pkcs11". Null if there is no keystore.
 */
export function describeKeystoreRoot(home: string): { source: string; pkcs11?: Pkcs11RootInfo } | null {
  let db: Database.Database;
  try {
    db = new Database(`${home}/keystore.db`, { readonly: true, fileMustExist: true });
  } catch {
    return null;
  }
  try {
    const get = (k: string) => (db.prepare("SELECT value FROM meta WHERE key = ?").get(k) as { value: string } | undefined)?.value ?? null;
    const source = get("master_source") ?? "";
    return source === "pkcs11" ? { source, pkcs11: parsePkcs11Meta(get(PKCS11_META)) } : { source };
  } catch (e) {
    if (e instanceof KeystoreError) throw e;
    return null;
  } finally {
    db.close();
  }
}

/**
 * The user PIN, in order: `pinFile` (e.g. --pin-file); PIPESEAL_PKCS11_PIN_FILE; the
 * PIPESEAL_PKCS11_PIN variable only with PIPESEAL_ALLOW_ENV_PIN=1 (environments leak through
 * /proc and crash dumps). Never argv. A PIN file readable by group or others is refused.
 * @throws KeystoreError(MASTER_KEY_UNAVAILABLE | MASTER_KEY_INSECURE)
 */
export function readPkcs11Pin(pinFile?: string, env: NodeJS.ProcessEnv = process.env): string {
  const file = pinFile ?? (env.PIPESEAL_PKCS11_PIN_FILE || undefined);
  if (file !== undefined) return readSecretFile(file, "PIN file");
  if (env.PIPESEAL_PKCS11_PIN !== undefined) {
    if (env.PIPESEAL_ALLOW_ENV_PIN === "1") return env.PIPESEAL_PKCS11_PIN;
    throw new KeystoreError(
      "MASTER_KEY_UNAVAILABLE",
      "PIPESEAL_PKCS11_PIN is set but ignored; set PIPESEAL_ALLOW_ENV_PIN=1 to opt in, or use PIPESEAL_PKCS11_PIN_FILE",
    );
  }
  throw new KeystoreError(
    "MASTER_KEY_UNAVAILABLE",
    "this keystore's root key is in an HSM and needs the token's user PIN: set PIPESEAL_PKCS11_PIN_FILE (a file of mode 0600)",
  );
}

/** A slot ID from a flag or variable. */
export function parseSlot(value: string | undefined): number | undefined {
  if (value === undefined || value === "") return undefined;
  const n = Number(value);
  if (!Number.isSafeInteger(n) || n < 0) throw new UsageError("INVALID_ARGUMENT", `invalid PKCS#11 slot ID: ${value}`);
  return n;
}

/** Location overrides from PIPESEAL_PKCS11_MODULE / _TOKEN / _SLOT / _KEY_LABEL. */
export function pkcs11LocationFromEnv(env: NodeJS.ProcessEnv = process.env): Partial<Pkcs11Location> {
  const out: { module?: string; token?: string; slot?: number; keyLabel?: string } = {};
  if (env.PIPESEAL_PKCS11_MODULE) out.module = env.PIPESEAL_PKCS11_MODULE;
  if (env.PIPESEAL_PKCS11_TOKEN) out.token = env.PIPESEAL_PKCS11_TOKEN;
  const slot = parseSlot(env.PIPESEAL_PKCS11_SLOT);
  if (slot !== undefined) out.slot = slot;
  if (env.PIPESEAL_PKCS11_KEY_LABEL) out.keyLabel = env.PIPESEAL_PKCS11_KEY_LABEL;
  return out;
}
