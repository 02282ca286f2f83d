/**
 * Process-wide PKCS#11 module and login bookkeeping.
 *
 * Cryptoki state is per process, not per handle: C_Initialize may be called once per module,
 * and a login is shared by every session of the application on that token (C_Logout logs
 * them all out). So several keystores opened on one token in one process share a reference-
 * counted module and a reference-counted login: the last close logs out, and the last close
 * of the module finalises it.
 */
import { createRequire } from "node:module";
import { realpathSync } from "node:fs";
import type * as Pkcs11Types from "pkcs11js";
import { KeystoreError } from "../../errors.js";

const require = createRequire(import.meta.url);

export type Pkcs11Lib = typeof Pkcs11Types;
export type Pkcs11 = Pkcs11Types.PKCS11;
export type Handle = Pkcs11Types.Handle;

let lib: Pkcs11Lib | undefined;

/** The pkcs11js binding, loaded on first use so a build without it still runs file/passphrase keystores. */
export function pkcs11js(): Pkcs11Lib {
  if (lib !== undefined) return lib;
  try {
    lib = require("pkcs11js") as Pkcs11Lib;
    return lib;
  } catch (e) {
    throw new KeystoreError("MASTER_KEY_UNAVAILABLE", "the pkcs11js native module could not be loaded (npm ci builds it; it needs a C++ toolchain)", {
      cause: e,
    });
  }
}

interface LoadedModule {
  readonly p11: Pkcs11;
  refs: number;
  /** Login reference counts per slot (hex of the slot handle). */
  readonly logins: Map<string, number>;
}

const modules = new Map<string, LoadedModule>();

/** Name of a PKCS#11 return value (e.g. CKR_PIN_INCORRECT), or null for another error. */
export function ckrName(e: unknown): string | null {
  const m = e instanceof Error ? /^(CKR_[A-Z0-9_]+)/.exec(e.message) : null;
  return m ? m[1] : null;
}

/**
 * Loads and initialises the module at `modulePath` (or shares the instance already loaded).
 * @throws KeystoreError(MASTER_KEY_UNAVAILABLE) if it is missing or not a PKCS#11 library.
 */
export function acquireModule(modulePath: string): { key: string; p11: Pkcs11 } {
  let key: string;
  try {
    key = realpathSync(modulePath);
  } catch (e) {
    throw new KeystoreError(
      "MASTER_KEY_UNAVAILABLE",
      `the PKCS#11 module ${modulePath} does not exist; install it (SoftHSM2: apt-get install softhsm2) or set PIPESEAL_PKCS11_MODULE`,
      { cause: e },
    );
  }
  const loaded = modules.get(key);
  if (loaded !== undefined) {
    loaded.refs++;
    return { key, p11: loaded.p11 };
  }
  const { PKCS11 } = pkcs11js();
  const p11 = new PKCS11();
  try {
    p11.load(key);
  } catch (e) {
    throw new KeystoreError("MASTER_KEY_UNAVAILABLE", `${modulePath} could not be loaded as a PKCS#11 module`, { cause: e });
  }
  try {
    p11.C_Initialize();
  } catch (e) {
    // another copy of the binding in this process initialised it: usable, but never finalise it
    if (ckrName(e) !== "CKR_CRYPTOKI_ALREADY_INITIALIZED") {
      try {
        p11.close();
      } catch {
        // ignore
      }
      throw new KeystoreError(
        "MASTER_KEY_UNAVAILABLE",
        `the PKCS#11 module ${modulePath} failed to initialise (${ckrName(e) ?? "error"}); check its configuration (SoftHSM2: SOFTHSM2_CONF)`,
        { cause: e },
      );
    }
  }
  modules.set(key, { p11, refs: 1, logins: new Map() });
  return { key, p11 };
}

/** Drops a reference; the last one finalises and unloads the module. */
export function releaseModule(key: string): void {
  const loaded = modules.get(key);
  if (loaded === undefined) return;
  if (--loaded.refs > 0) return;
  modules.delete(key);
  try {
    loaded.p11.C_Finalize();
  } catch {
    // best effort
  }
  try {
    loaded.p11.close();
  } catch {
    // best effort
  }
}

/**
 * Logs the user in on `session` unless this process is already logged in on that token.
 * @throws the Pkcs11Error of C_Login (the caller maps it).
 */
export function acquireLogin(key: string, slot: Handle, session: Handle, pin: string): void {
  const loaded = modules.get(key) as LoadedModule;
  const id = slot.toString("hex");
  const count = loaded.logins.get(id) ?? 0;
  if (count === 0) {
    try {
      loaded.p11.C_Login(session, pkcs11js().CKU_USER, pin);
    } catch (e) {
      if (ckrName(e) !== "CKR_USER_ALREADY_LOGGED_IN") throw e;
    }
  }
  loaded.logins.set(id, count + 1);
}

/** Drops a login reference; the last one logs out (through `session`, still open). */
export function releaseLogin(key: string, slot: Handle, session: Handle): void {
  const loaded = modules.get(key);
  if (loaded === undefined) return;
  const id = slot.toString("hex");
  const count = (loaded.logins.get(id) ?? 1) - 1;
  if (count > 0) {
    loaded.logins.set(id, count);
    return;
  }
  loaded.logins.delete(id);
  try {
    loaded.p11.C_Logout(session);
  } catch {
    // best effort: closing the last session logs out anyway
  }
}
