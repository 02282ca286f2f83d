/**
 * The key service as a gateway backend (`pipeseal gateway --server`): the gateway unwraps
 * with its own certificate ON BEHALF OF each peer (RemoteKeyring.actingFor), so the key
 * service decides for both — the policy's `delegates` must let the gateway act for that
 * peer, and the peer itself must be allowed the unwrap — and records both (docs/keyservice.md
 * "Delegates"). Bearer tokens of peers without a certificate are checked by the key service
 * (POST /v1/tokens/verify) and passed along with every unwrap, so the token's operations and
 * expiry bind there too. The gateway's own records (denials, what it served, refused TLS
 * peers) go to the key service's audit chain, sent in the background in order; a record that
 * cannot be sent is reported to `onError` (the bytes it describes are already out).
 */
import type { AuditEvent } from "../audit/types.js";
import type { RemoteKeyring } from "../client/remote-keyring.js";
import type { DelegateRecord } from "../server/store/decision.js";
import { asGatewayRead, type GatewayBackend } from "./backend.js";

export function remoteBackend(kr: RemoteKeyring, onError: (e: unknown) => void): GatewayBackend {
  let queue: DelegateRecord[] = [];
  let sending: Promise<void> = Promise.resolve();
  const send = () => {
    const batch = queue;
    queue = [];
    if (batch.length === 0) return;
    sending = sending.then(() => kr.appendRecords(batch)).catch(onError);
  };
  return {
    keyringFor: (principal, token) => asGatewayRead(kr.actingFor(principal, token)),
    record(event) {
      queue.push(toRecord(event));
      if (queue.length === 1) queueMicrotask(send); // the records of one turn go in one request
    },
    async verifyToken(token) {
      const t = await kr.verifyPeerToken(token);
      return { identity: t.identity, expiresAtMs: Date.parse(t.expiresAt) };
    },
    async flush() {
      send();
      await sending;
    },
  };
}

function toRecord(e: AuditEvent): DelegateRecord {
  return {
    operation: e.operation as DelegateRecord["operation"],
    outcome: e.outcome,
    ...(e.principal.startsWith("spiffe://") ? { onBehalfOf: e.principal } : {}),
    ...(e.errorCode ? { errorCode: e.errorCode } : {}),
    ...(e.keyName ? { keyName: e.keyName } : {}),
    ...(typeof e.keyVersion === "number" ? { keyVersion: e.keyVersion } : {}),
    ...(e.objectPath ? { objectPath: e.objectPath.slice(0, 4096) } : {}),
    ...(e.headerHash ? { headerHash: e.headerHash } : {}),
    ...(e.context ? { context: e.context } : {}),
  };
}
