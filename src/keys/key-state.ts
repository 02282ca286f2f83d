/**
 * Key-state authentication: the ONE rule for every store (the local keystore and the key
 * service's SQLite and PostgreSQL stores). Without it, anyone who can write the database can
 * `UPDATE key_versions SET state = 'enabled'` and a disabled version decrypts again; with a
 * passphrase or HSM root, write access to the database is not the same as holding the root.
 *
 * Every key row and every version row carries `state_mac`, an HMAC-SHA-256 (RFC 2104) under
 * the state key over canonical bytes that name the row (key name, version), so a MAC copied
 * to another key or version does not verify:
 *
 *   key row:     LABEL || "K" || u16 len || name || u32 primary || u32 min_decrypt
 *                || u8 has_period || u64 rotate_every_seconds || u64 state_gen
 *   version row: LABEL || "V" || u16 len || name || u32 version || u8 state
 *                || u64 wrap_count || u64 state_gen
 *
 * `state_gen` is a per-key generation, raised by every administrative change of the key or
 * of any of its versions, which then re-MACs all the key's rows ({@link sealKeySet}). A
 * version row is valid only with its key row's generation, so a version row saved before a
 * `key disable` and written back later (carrying its old, authentic MAC) is refused too.
 * What this cannot see is a consistent rollback of a key row together with all its version
 * rows (or of the whole database): that is what audit anchors are for.
 *
 * The wrap count is bound exactly: each wrap writes the new count and its MAC in the same
 * UPDATE (one HMAC, about a microsecond, next to a committed transaction), so a count set
 * lower (or higher) than the last one MAC'd is corruption.
 *
 * The state key is HKDF-Expand (RFC 5869 §2.3, L = 32, one block: HMAC(PRK, info || 0x01))
 * with the audit-chain key as PRK, computed through `RootKey.auditMac`, so it comes from the
 * root on every root type: for an HSM root the token computes that one HMAC at open (the
 * audit key never leaves it) and the per-use MACs run in software. No audit-chain input can
 * equal the 26-byte expand input (every chain input starts with a 32-byte MAC).
 *
 * Security guarantees: without the root key, no edit of state, primary, minimum version,
 * rotation period or wrap count — and no swap of rows or MACs between keys or versions —
 * passes the check; every read of a key for use or display runs it and fails with
 * KeystoreError(KEYSTORE_CORRUPT).
 */
import { createHmac, timingSafeEqual } from "node:crypto";
import { GENESIS_MAC, chainMac, macEquals } from "../audit/chain.js";
import { INIT_CONTEXT } from "../audit/head-mac.js";
import type { AuditRow } from "../audit/schema.js";
import { KeystoreError } from "../errors.js";
import type { RootKey } from "./root-key.js";

const INFO = Buffer.from("pipeseal/v1/key-state-mac", "utf8");
const LABEL = Buffer.from("pipeseal-key-state-v1", "utf8");
const MARKER_LABEL = Buffer.from("pipeseal-key-state-sealed-v1", "utf8");
const STATES = { enabled: 1, disabled: 2, destroyed: 3 } as const;

/** Meta key whose value says (authenticated) that every key row of this store carries a state MAC. */
export const KEY_STATE_META = "key_state_mac";
/** Context recorded on the `init` audit record of a store born sealed (see {@link isBornSealed}). */
export const SEALED_AT_INIT = INIT_CONTEXT; // its "key-state" field; the context is defined once, in audit/head-mac.ts
/** Audit operation of sealing the rows of a store made before key-state MACs. */
export const SEAL_OPERATION = "key.seal-state";

/** The state fields of a key row (rows.ts KeyRow) the MAC covers. */
export interface KeyStateFields {
  readonly name: string;
  readonly primary_version: number;
  readonly min_decrypt_version: number;
  readonly rotate_every_seconds: number | null;
  readonly state_gen: number;
  readonly state_mac?: Buffer | null;
}

/** The state fields of a version row (rows.ts VersionRow) the MAC covers. */
export interface VersionStateFields {
  readonly key_name: string;
  readonly version: number;
  readonly state: string;
  readonly wrap_count: number;
  readonly state_gen: number;
  readonly state_mac?: Buffer | null;
}

/** The state key of one open store; `close()` wipes it. */
export class StateSeal {
  readonly #key: Buffer;

  private constructor(key: Buffer) {
    this.#key = key;
  }

  /** Derives the state key from the root (one `auditMac` call). */
  static fromRoot(root: RootKey): StateSeal {
    return new StateSeal(root.auditMac(Buffer.concat([INFO, Buffer.from([1])])));
  }

  /** The MAC a key row must carry. @throws KEYSTORE_CORRUPT if a field is not a valid value */
  keyMac(k: KeyStateFields): Buffer {
    const name = Buffer.from(String(k.name), "utf8");
    return this.#mac([
      LABEL,
      Buffer.from("K"),
      u16(name.length, k),
      name,
      u32(k.primary_version, k),
      u32(k.min_decrypt_version, k),
      Buffer.from([k.rotate_every_seconds === null ? 0 : 1]),
      u64(k.rotate_every_seconds ?? 0, k),
      u64(k.state_gen, k),
    ]);
  }

  /** The MAC a version row must carry. @throws KEYSTORE_CORRUPT if a field is not a valid value */
  versionMac(v: VersionStateFields): Buffer {
    const name = Buffer.from(String(v.key_name), "utf8");
    const state = STATES[v.state as keyof typeof STATES];
    if (state === undefined) throw corruptVersion(v);
    return this.#mac([LABEL, Buffer.from("V"), u16(name.length, v), name, u32(v.version, v), Buffer.from([state]), u64(v.wrap_count, v), u64(v.state_gen, v)]);
  }

  /** Returns `k` if its MAC verifies. @throws KeystoreError(KEYSTORE_CORRUPT) */
  checkKey<K extends KeyStateFields>(k: K): K {
    if (!macMatches(k.state_mac, () => this.keyMac(k))) throw corruptKey(k);
    return k;
  }

  /** Returns `v` if its MAC verifies and it belongs to `key`'s generation. @throws KeystoreError(KEYSTORE_CORRUPT) */
  checkVersion<V extends VersionStateFields>(key: KeyStateFields, v: V): V {
    if (v.key_name !== key.name || v.state_gen !== key.state_gen || !macMatches(v.state_mac, () => this.versionMac(v))) throw corruptVersion(v);
    return v;
  }

  /** The authenticated value of {@link KEY_STATE_META}. */
  marker(): string {
    return this.#mac([MARKER_LABEL]).toString("hex");
  }

  /** Whether `stored` is this store's marker (constant time). */
  markerMatches(stored: string | null): boolean {
    if (stored === null || !/^[0-9a-f]{64}$/.test(stored)) return false;
    return timingSafeEqual(Buffer.from(stored, "hex"), Buffer.from(this.marker(), "hex"));
  }

  close(): void {
    this.#key.fill(0);
  }

  #mac(parts: readonly Buffer[]): Buffer {
    const h = createHmac("sha256", this.#key);
    for (const p of parts) h.update(p);
    return h.digest();
  }
}

/**
 * The new rows of one key after an administrative change: generation + 1 and a fresh MAC on
 * the key row and on every version row. The caller must have checked the rows it read
 * before changing them (so a tampered row is never laundered into a valid one).
 */
export function sealKeySet(
  seal: StateSeal,
  key: KeyStateFields,
  versions: readonly VersionStateFields[],
): { gen: number; keyMac: Buffer; versionMacs: { version: number; mac: Buffer }[] } {
  const gen = key.state_gen + 1;
  return {
    gen,
    keyMac: seal.keyMac({ ...key, state_gen: gen }),
    versionMacs: versions.map((v) => ({ version: v.version, mac: seal.versionMac({ ...v, state_gen: gen }) })),
  };
}

/**
 * Whether a store whose marker is missing was nevertheless sealed before (so the marker was
 * stripped to have tampered rows sealed as they are: corruption, not a store to migrate).
 * Evidence, from the audit chain: the `init` record (seq 1, its MAC checked) is missing, does
 * not authenticate, or carries {@link SEALED_AT_INIT}; or a {@link SEAL_OPERATION} record exists.
 */
export function sealedBefore(init: AuditRow | undefined, auditMac: (data: Buffer) => Buffer, hasSealRecord: boolean): boolean {
  if (hasSealRecord || init === undefined) return true; // every store starts with its init record
  const { mac, ...fields } = init;
  if (!(mac instanceof Uint8Array) || !macEquals(Buffer.from(mac), chainMac(auditMac, GENESIS_MAC, fields))) return true;
  if (init.operation !== "init" || init.context === null) return false;
  try {
    return (JSON.parse(init.context) as Record<string, unknown>)["key-state"] === SEALED_AT_INIT["key-state"];
  } catch {
    return false;
  }
}

export function markerStripped(): KeystoreError {
  return new KeystoreError(
    "KEYSTORE_CORRUPT",
    "the keystore's key-state seal is missing or altered although its keys were sealed; restore the keystore from backup",
  );
}

function macMatches(stored: Buffer | null | undefined, expected: () => Buffer): boolean {
  if (!(stored instanceof Uint8Array) || stored.length !== 32) return false;
  let want: Buffer;
  try {
    want = expected();
  } catch {
    return false;
  }
  return timingSafeEqual(stored, want);
}

function corruptKey(k: { name: unknown }): KeystoreError {
  return new KeystoreError("KEYSTORE_CORRUPT", `the stored state of key ${String(k.name).slice(0, 200)} does not authenticate (edited outside pipeseal?)`);
}

function corruptVersion(v: { key_name: unknown; version: unknown }): KeystoreError {
  return new KeystoreError(
    "KEYSTORE_CORRUPT",
    `the stored state of ${String(v.key_name).slice(0, 200)} v${String(v.version).slice(0, 12)} does not authenticate (edited outside pipeseal?)`,
  );
}

function u16(n: number, row: object): Buffer {
  if (!Number.isSafeInteger(n) || n < 0 || n > 0xffff) throw corruptOf(row);
  const b = Buffer.alloc(2);
  b.writeUInt16BE(n);
  return b;
}

function u32(n: number, row: object): Buffer {
  if (!Number.isSafeInteger(n) || n < 0 || n > 0xffff_ffff) throw corruptOf(row);
  const b = Buffer.alloc(4);
  b.writeUInt32BE(n);
  return b;
}

function u64(n: number, row: object): Buffer {
  if (!Number.isSafeInteger(n) || n < 0) throw corruptOf(row);
  const b = Buffer.alloc(8);
  b.writeBigUInt64BE(BigInt(n));
  return b;
}

function corruptOf(row: object): KeystoreError {
  return "key_name" in row ? corruptVersion(row as { key_name: unknown; version: unknown }) : corruptKey(row as { name: unknown });
}
