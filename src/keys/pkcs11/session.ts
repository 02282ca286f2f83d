/**
 * Finding an HSM root key's token and objects through PKCS#11: slot discovery by token label
 * or slot ID, the R/W session and the user login (`withSession`), and the object lookups the
 * root key needs (by label and CKA_ID, whether a key is protected in the token). The root
 * key itself, what it does with the session, is root-key.ts.
 */
import { KeystoreError, UsageError } from "../../errors.js";
import { type Handle, type Pkcs11, acquireLogin, acquireModule, ckrName, pkcs11js, releaseLogin, releaseModule } from "./module.js";

/** Where the root key lives. Never holds the PIN: see {@link Pkcs11Login}. */
export interface Pkcs11Location {
  /** Path of the PKCS#11 module (shared library), e.g. /usr/lib/softhsm/libsofthsm2.so. */
  readonly module: string;
  /** Label of the token. One of `token` or `slot` is required. */
  readonly token?: string;
  /** Slot ID (CK_SLOT_ID) of the token, when labels are not unique. */
  readonly slot?: number;
  /** Label of the AES root key (the HMAC key is `<label>.audit`). Default "pipeseal-root". */
  readonly keyLabel?: string;
}

export interface Pkcs11Login extends Pkcs11Location {
  /** The token's user PIN. Read it from a file or an opted-in variable, never from argv. */
  readonly pin: string;
}

export const DEFAULT_KEY_LABEL = "pipeseal-root";
export const AUDIT_SUFFIX = ".audit";

/** The AES key's label (the HMAC key is `<label>.audit`). @throws UsageError(INVALID_ARGUMENT) */
export function keyLabelOf(loc: Pkcs11Location): string {
  const label = loc.keyLabel ?? DEFAULT_KEY_LABEL;
  if (typeof label !== "string" || !/^[\x21-\x7e]{1,64}$/.test(label) || label.endsWith(AUDIT_SUFFIX)) {
    throw new UsageError(
      "INVALID_ARGUMENT",
      `the PKCS#11 key label must be 1 to 64 printable ASCII characters without spaces, not ending in "${AUDIT_SUFFIX}"`,
    );
  }
  return label;
}

/** A logged-in R/W session on the token, as `withSession` hands it to its caller. */
export interface OpenSession {
  readonly p11: Pkcs11;
  /** The module's key in module.ts's registry (for releaseLogin/releaseModule at close). */
  readonly moduleKey: string;
  readonly slot: Handle;
  readonly session: Handle;
  readonly tokenLabel: string;
}

/**
 * Loads the module, finds the token, opens an R/W session and logs in, then runs `use`; on
 * success the session stays open (its owner, the root key `use` returns, closes it), on
 * failure everything is released.
 */
export function withSession<T>(login: Pkcs11Login, use: (s: OpenSession) => T): T {
  if (login === null || typeof login !== "object" || typeof login.module !== "string" || login.module === "") {
    throw new UsageError("INVALID_ARGUMENT", "the PKCS#11 module path is required");
  }
  if (typeof login.pin !== "string" || login.pin === "") {
    throw new KeystoreError("MASTER_KEY_UNAVAILABLE", "the HSM user PIN is required (PIPESEAL_PKCS11_PIN_FILE)");
  }
  if ((login.token === undefined || login.token === "") && login.slot === undefined) {
    throw new UsageError("INVALID_ARGUMENT", "a PKCS#11 token label or slot is required");
  }
  const P = pkcs11js();
  const { key, p11 } = acquireModule(login.module);
  let session: Handle | undefined;
  let loggedIn = false;
  let slot: Handle | undefined;
  try {
    let tokenLabel: string;
    [slot, tokenLabel] = findSlot(p11, login);
    try {
      session = p11.C_OpenSession(slot, P.CKF_SERIAL_SESSION | P.CKF_RW_SESSION);
    } catch (e) {
      throw new KeystoreError("MASTER_KEY_UNAVAILABLE", `could not open a session on token "${tokenLabel}" (${ckrName(e) ?? "error"})`, { cause: e });
    }
    try {
      acquireLogin(key, slot, session, login.pin);
      loggedIn = true;
    } catch (e) {
      const code = ckrName(e);
      const why =
        code === "CKR_PIN_INCORRECT"
          ? "the user PIN is wrong"
          : code === "CKR_PIN_LOCKED"
            ? "the user PIN is locked (too many wrong PINs); the security officer must reset it"
            : code === "CKR_USER_PIN_NOT_INITIALIZED"
              ? "the token has no user PIN yet (initialise it)"
              : `login failed (${code ?? "error"})`;
      throw new KeystoreError("MASTER_KEY_UNAVAILABLE", `HSM token "${tokenLabel}": ${why}; check PIPESEAL_PKCS11_PIN_FILE (pipeseal never retries a PIN)`, {
        cause: e,
      });
    }
    return use({ p11, moduleKey: key, slot, session, tokenLabel });
  } catch (e) {
    if (loggedIn) releaseLogin(key, slot as Handle, session as Handle);
    if (session !== undefined) {
      try {
        p11.C_CloseSession(session);
      } catch {
        // ignore
      }
    }
    releaseModule(key);
    throw e;
  }
}

function findSlot(p11: Pkcs11, loc: Pkcs11Location): [Handle, string] {
  let slots: Handle[];
  try {
    slots = p11.C_GetSlotList(true);
  } catch (e) {
    throw new KeystoreError("MASTER_KEY_UNAVAILABLE", `the PKCS#11 module ${loc.module} could not list its slots (${ckrName(e) ?? "error"})`, { cause: e });
  }
  const found: [Handle, string][] = [];
  const labels: string[] = [];
  for (const slot of slots) {
    let label: string;
    try {
      label = p11.C_GetTokenInfo(slot).label.replace(/[ \0]+$/, "");
    } catch {
      continue;
    }
    labels.push(label);
    const slotMatches = loc.slot === undefined || slotId(slot) === BigInt(loc.slot);
    const labelMatches = loc.token === undefined || loc.token === "" || label === loc.token;
    if (slotMatches && labelMatches) found.push([slot, label]);
  }
  const wanted = loc.token !== undefined && loc.token !== "" ? `labelled "${loc.token}"` : `in slot ${loc.slot}`;
  if (found.length === 0) {
    throw new KeystoreError(
      "MASTER_KEY_UNAVAILABLE",
      `no token ${wanted} in ${loc.module} (tokens present: ${labels.length === 0 ? "none" : labels.map((l) => `"${l}"`).join(", ")}); check the token label, the module, and for SoftHSM2 SOFTHSM2_CONF`,
    );
  }
  if (found.length > 1) throw new KeystoreError("MASTER_KEY_UNAVAILABLE", `more than one token ${wanted}; give the slot ID as well`);
  return found[0];
}

function slotId(handle: Handle): bigint {
  let v = 0n;
  for (let i = handle.length - 1; i >= 0; i--) v = (v << 8n) | BigInt(handle[i]);
  return v;
}

export function findKeys(s: OpenSession, label: string, id: Buffer | null): Handle[] {
  const P = pkcs11js();
  const template = [
    { type: P.CKA_CLASS, value: P.CKO_SECRET_KEY },
    { type: P.CKA_LABEL, value: label },
    ...(id === null ? [] : [{ type: P.CKA_ID, value: id }]),
  ];
  s.p11.C_FindObjectsInit(s.session, template);
  try {
    return s.p11.C_FindObjects(s.session, 8);
  } finally {
    s.p11.C_FindObjectsFinal(s.session);
  }
}

export function one(s: OpenSession, handles: Handle[], label: string): Handle {
  if (handles.length === 0) {
    throw new KeystoreError(
      "MASTER_KEY_UNAVAILABLE",
      `the token "${s.tokenLabel}" holds no key labelled "${label}" with the id this keystore recorded; is this the right token, or was the key deleted?`,
    );
  }
  if (handles.length > 1) throw new KeystoreError("MASTER_KEY_UNAVAILABLE", `the token "${s.tokenLabel}" holds several keys labelled "${label}"`);
  return handles[0];
}

export function protectedInToken(p11: Pkcs11, session: Handle, key: Handle): boolean {
  const P = pkcs11js();
  const attrs = p11.C_GetAttributeValue(session, key, [{ type: P.CKA_SENSITIVE }, { type: P.CKA_EXTRACTABLE }]);
  const flag = (t: number) => {
    const v = attrs.find((a) => a.type === t)?.value;
    return Buffer.isBuffer(v) ? v[0] === 1 : v === true;
  };
  return flag(P.CKA_SENSITIVE) && !flag(P.CKA_EXTRACTABLE);
}

export function idOf(p11: Pkcs11, session: Handle, key: Handle): string {
  const P = pkcs11js();
  const v = p11.C_GetAttributeValue(session, key, [{ type: P.CKA_ID }])[0]?.value;
  return Buffer.isBuffer(v) ? v.toString("hex") : "";
}

export function destroyQuietly(p11: Pkcs11, session: Handle, key: Handle): void {
  try {
    p11.C_DestroyObject(session, key);
  } catch {
    // best effort
  }
}
