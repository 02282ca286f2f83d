/**
 * What the gateway needs from the key side: a keyring whose unwraps are audited as done by
 * the peer (not by the gateway), and a durable audit sink for the gateway's own records
 * (denials, what was served). The local keystore provides both.
 */
import type { AuditEvent } from "../audit/types.js";
import type { AuditObject, EncryptionContext, EntryTarget, Keyring, WrappedKey } from "../keys/keyring.js";
import type { LocalKeystore } from "../keys/local-keystore.js";

/** The operation name of a gateway unwrap in the audit chain. */
export const GATEWAY_READ = "gateway-read";

export interface GatewayBackend {
  /**
   * A keyring whose unwraps the audit chain records with `principal` as the one who acted
   * (`token`: the bearer token that peer authenticated with, passed on to the key service).
   */
  keyringFor(principal: string, token?: string): Keyring;
  /** Appends a record (durably for the local keystore; throws when it cannot). */
  record(event: AuditEvent): void;
  /**
   * Checks a bearer token a peer without a client certificate presented: its identity and
   * expiry. Absent: the gateway takes client certificates only.
   * @throws PipesealError(UNAUTHENTICATED) for a token that does not verify.
   */
  verifyToken?(token: string): Promise<{ identity: string; expiresAtMs: number }>;
  /** Waits for records still being sent (a remote backend); called when the gateway closes. */
  flush?(): Promise<void>;
}

/**
 * The local keystore as a gateway backend: unwraps go through a view acting as the peer
 * (`LocalKeystore.actingAs`, as the key service does for its callers), recorded as
 * `gateway-read` so the chain shows the read came through the gateway.
 */
export function localBackend(ks: LocalKeystore): GatewayBackend {
  return {
    keyringFor: (principal) => asGatewayRead(ks.actingAs(principal)),
    record: (event) => void ks.appendAuditEvent(event),
  };
}

/** Wraps a keyring so its unwraps are recorded as `gateway-read` (the object and context are kept). */
export function asGatewayRead(inner: Keyring): Keyring {
  const relabel = (object: AuditObject): AuditObject => ({ ...object, operation: GATEWAY_READ });
  return {
    id: inner.id,
    wrap: (name: string, key: Uint8Array, context: EncryptionContext, objectId?: Uint8Array) => inner.wrap(name, key, context, objectId),
    unwrap: (entry: WrappedKey, context: EncryptionContext, object: AuditObject) => inner.unwrap(entry, context, relabel(object)),
    rewrap: (entry: WrappedKey, context: EncryptionContext, object: AuditObject, upgrade?: EntryTarget) =>
      inner.rewrap(entry, context, relabel(object), upgrade),
    deriveFieldKey: (name, version, purpose, object, length) => inner.deriveFieldKey(name, version, purpose, relabel(object), length),
  };
}
