/** JSON ⇄ library values for the API (base64 bytes, wrapped-key entries). */
import type { WrappedKey } from "../keys/keyring.js";
import { ServiceError } from "./errors.js";

export interface WireWrappedKey {
  readonly keyName: string;
  readonly keyVersion: number;
  /** base64 */
  readonly wrapped: string;
}

export function fromB64(s: string, what: string): Buffer {
  const b = Buffer.from(s, "base64");
  // the schema already checked the alphabet; this refuses non-canonical lengths
  if (b.toString("base64") !== s) throw new ServiceError("INVALID_ARGUMENT", `${what} is not canonical base64`);
  return b;
}

export function toWireEntry(e: WrappedKey): WireWrappedKey {
  return { keyName: e.keyName, keyVersion: e.keyVersion, wrapped: Buffer.from(e.wrapped).toString("base64") };
}

/** An entry from the wire, stamped with the store's keyring id (the client's own label stays on the client). */
export function fromWireEntry(w: WireWrappedKey, storeKeyringId: string): WrappedKey {
  return { keyring: storeKeyringId, keyName: w.keyName, keyVersion: w.keyVersion, wrapped: fromB64(w.wrapped, "wrappedKey.wrapped") };
}
