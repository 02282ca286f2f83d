/**
 * The client side of delegation (docs/keyservice.md "Delegates"): a service the policy names
 * as a delegate (the data gateway) unwraps through the key service on behalf of the peer it
 * serves. The view's unwraps carry `onBehalfOf` (and the peer's bearer token, when the peer
 * authenticated with one); the key service decides for both the delegate and the peer and
 * records both. Nothing is cached here: the gateway holds what it opened, for its own window.
 */
import { UsageError } from "../errors.js";
import type { AuditObject, EncryptionContext, Keyring, WrappedKey } from "../keys/keyring.js";
import type { DelegateRecord } from "../server/store/decision.js";
import type { KeyServiceClient } from "./http.js";

/**
 * What a delegated view needs of the delegate's own keyring (a RemoteKeyring is one): declared
 * here so that remote-keyring.ts, which builds views with this module, is not imported back.
 */
export interface DelegateKeyring {
  readonly client: KeyServiceClient;
  readonly id: string;
  readonly aliases: readonly string[];
  /** The entry in the key service's wire form (a v2 entry with its binding). */
  wireEntry(entry: WrappedKey): unknown;
}

/** What the key service says about a peer's bearer token (POST /v1/tokens/verify). */
export interface VerifiedToken {
  readonly identity: string;
  /** ISO 8601. */
  readonly expiresAt: string;
  readonly operations?: readonly string[];
}

/** A keyring that unwraps on behalf of `identity`; it never wraps or rewraps (those are not delegated). */
export function delegatedKeyring(kr: DelegateKeyring, identity: string, token?: string): Keyring {
  const refuse = (): never => {
    throw new UsageError("INVALID_ARGUMENT", "only unwrap is done on behalf of another identity");
  };
  return {
    id: kr.id,
    aliases: kr.aliases,
    wrap: async () => refuse(),
    rewrap: async () => refuse(),
    deriveFieldKey: async () => refuse(),
    async unwrap(entry: WrappedKey, context: EncryptionContext, object: AuditObject): Promise<Buffer> {
      // the same wire form as the delegate's own unwraps (a v2 entry carries its binding)
      const r = await kr.client.call<{ plaintext: string }>("POST", "/v1/unwrap", {
        wrappedKey: kr.wireEntry(entry),
        context,
        object: {
          operation: object.operation,
          ...(object.path ? { path: object.path.slice(0, 1024) } : {}),
          ...(object.headerHash ? { headerHash: object.headerHash } : {}),
        },
        onBehalfOf: identity,
        ...(token !== undefined ? { onBehalfToken: token } : {}),
      });
      return Buffer.from(r.plaintext, "base64");
    },
  };
}

/** Asks the key service whether a peer's bearer token is valid, and for whom. @throws KeyServiceError(UNAUTHENTICATED | ACCESS_DENIED …) */
export function verifyPeerToken(client: KeyServiceClient, token: string): Promise<VerifiedToken> {
  return client.call("POST", "/v1/tokens/verify", { token });
}

/** Records a delegate's own events in the service's audit chain. */
export async function appendRecords(client: KeyServiceClient, records: readonly DelegateRecord[]): Promise<void> {
  for (let i = 0; i < records.length; i += 100) await client.call("POST", "/v1/audit/records", { records: records.slice(i, i + 100) });
}
