/** JSON ⇄ library values for the API (base64 bytes, wrapped-key entries). */
import { type WireBinding, fromWireBinding } from "../keys/key-block-json.js";
import type { WrappedKey } from "../keys/keyring.js";

import { ServiceError } from "./errors.js";

export { type WireBinding, type WireTarget, fromWireBinding, fromWireTarget, toWireBinding, toWireTarget } from "../keys/key-block-json.js";

export interface WireWrappedKey {
  readonly keyName: string;
  readonly keyVersion: number;
  /** base64 */
  readonly wrapped: string;
  /** hex: a v2 entry's key-block tag (in answers to rewrap) */
  readonly tag?: string;
  /** a v2 entry's place in its file (in unwrap and rewrap requests) */
  readonly binding?: WireBinding;
}

export function fromB64(s: string, what: string): Buffer {
  const b = Buffer.from(s, "base64");
  // the schema already checked the alphabet; this refuses non-canonical lengths
  if (b.toString("base64") !== s) throw new ServiceError("INVALID_ARGUMENT", `${what} is not canonical base64`);
  return b;
}

export function toWireEntry(e: WrappedKey): WireWrappedKey {
  return {
    keyName: e.keyName,
    keyVersion: e.keyVersion,
    wrapped: Buffer.from(e.wrapped).toString("base64"),
    ...(e.tag ? { tag: Buffer.from(e.tag).toString("hex") } : {}),
  };
}

/** An entry from the wire, stamped with the store's keyring id (the client's own label stays on the client). */
export function fromWireEntry(w: WireWrappedKey, storeKeyringId: string): WrappedKey {
  return {
    keyring: storeKeyringId,
    keyName: w.keyName,
    keyVersion: w.keyVersion,
    wrapped: fromB64(w.wrapped, "wrappedKey.wrapped"),
    ...(w.binding ? { binding: fromWireBinding(w.binding) } : {}),
  };
}
