/**
 * `RemoteKeyring`: the Keyring over the key service (wrap / unwrap / rewrap through the API),
 * plus the service's other operations. Its `id` is what sealed files record for entries it
 * wraps, so `unlock` picks this keyring for them; on the wire the service gets only key name,
 * version and wrapped bytes. `RemoteKeyring.connect` takes the id from the service itself
 * (its configured `keyringId`, GET /v1/info), so every URL that reaches one service (a DNS
 * name, 127.0.0.1, localhost) records and opens the same id; entries that older clients
 * recorded under the URL host (`ks:<host>`) still open (an alias).
 *
 * @example
 * const kr = await RemoteKeyring.connect({ url: "https://keys.internal:8443", certDir: "certs/prod/trainer" });
 * const sealed = sealStream(kr, source, { keyName: ["prod/datasets/raw"], context });
 * await kr.close();
 */
import type { AuditRecord, AuditVerifyResult } from "../audit/types.js";
import type { AnchorEnvelope } from "../audit/anchor.js";
import type { AnchoredVerifyResult } from "../audit/anchor-check.js";
import { UsageError } from "../errors.js";
import type { KeyInfo } from "../keys/key-info.js";
import { type AuditObject, type EncryptionContext, type EntryTarget, type Keyring, type WrappedKey, servesEntry } from "../keys/keyring.js";
import { checkBindingShape } from "../keys/key-block.js";
import { type WireBinding, toWireBinding, toWireTarget } from "../keys/key-block-json.js";
import { type CacheEvent, type CacheLimits, DataKeyCache } from "./cache.js";
import { KeyServiceError } from "./errors.js";
import { KeyServiceClient, type KeyServiceClientOptions } from "./http.js";
import { splitLines } from "./lines.js";
import { type FollowEvent, type FollowOptions, followAudit } from "./follow.js";
import { RemoteSecrets } from "./secrets.js";
import { type VerifiedToken, appendRecords, delegatedKeyring, verifyPeerToken } from "./delegate.js";
import type { DelegateRecord } from "../server/store/decision.js";

export interface RemoteKeyringOptions extends KeyServiceClientOptions {
  /**
   * Keyring id recorded in sealed-file headers. Default: the service's own id with
   * `RemoteKeyring.connect`, `ks:<url host>` with the constructor alone (older behaviour).
   */
  readonly id?: string;
  /** Cache unwrapped data keys within these limits. Off when absent. */
  readonly cache?: CacheLimits;
  /** The client's own log of cache decisions. */
  readonly onCache?: (e: CacheEvent) => void;
}

const ID = /^[A-Za-z0-9:._\-[\]]{1,128}$/;

type WireEntry = { keyName: string; keyVersion: number; wrapped: string; tag?: string; binding?: WireBinding };

const b64 = (b: Uint8Array) => Buffer.from(b.buffer, b.byteOffset, b.byteLength).toString("base64");

export class RemoteKeyring implements Keyring {
  #id: string;
  #aliases: readonly string[] = [];
  readonly client: KeyServiceClient;
  readonly #cache: DataKeyCache | undefined;

  /**
   * A keyring whose id is the service's own (GET /v1/info) unless `options.id` fixes it; the
   * URL-host id older clients recorded stays an alias, so their files keep opening.
   * @throws KeyServiceError when the service cannot be reached
   */
  static async connect(options: RemoteKeyringOptions): Promise<RemoteKeyring> {
    const kr = new RemoteKeyring(options);
    if (options.id !== undefined) return kr;
    try {
      const info = await kr.client.call<{ keyringId: string }>("GET", "/v1/info");
      if (info.keyringId !== kr.#id && ID.test(info.keyringId) && info.keyringId !== "local") {
        kr.#aliases = [kr.#id];
        kr.#id = info.keyringId;
      }
      return kr;
    } catch (e) {
      await kr.close();
      throw e;
    }
  }

  get id(): string {
    return this.#id;
  }
  get aliases(): readonly string[] {
    return this.#aliases;
  }

  constructor(options: RemoteKeyringOptions) {
    this.client = new KeyServiceClient(options);
    this.#id = options.id ?? `ks:${this.client.url.hostname}`;
    if (!ID.test(this.#id) || this.#id === "local") throw new UsageError("INVALID_ARGUMENT", `invalid keyring id ${JSON.stringify(this.#id)}`);
    this.#cache = options.cache ? new DataKeyCache(options.cache, options.onCache) : undefined;
  }

  #entry(w: WireEntry): WrappedKey {
    return {
      keyring: this.id,
      keyName: w.keyName,
      keyVersion: w.keyVersion,
      wrapped: Buffer.from(w.wrapped, "base64"),
      ...(w.tag ? { tag: Buffer.from(w.tag, "hex") } : {}),
    };
  }

  /** The entry for the service; a v2 entry's binding names this keyring's id as the file does (the service knows itself by its own id). */
  /**
   * An entry as the service's routes take it: name, version, wrapped bytes and, for a v2
   * entry, its binding under the keyring id it records.
   * @throws UsageError(INVALID_ARGUMENT) for an entry of another keyring
   */
  wireEntry(entry: WrappedKey): WireEntry {
    if (!servesEntry(this, entry?.keyring))
      throw new UsageError("INVALID_ARGUMENT", `the entry belongs to keyring "${String(entry?.keyring).slice(0, 40)}", not "${this.id}"`);
    const binding = entry.binding ? toWireBinding({ ...checkBindingShape(entry.binding), keyringLabel: entry.keyring }) : undefined;
    return { keyName: entry.keyName, keyVersion: entry.keyVersion, wrapped: b64(entry.wrapped), ...(binding ? { binding } : {}) };
  }

  async wrap(keyName: string, dataKey: Uint8Array, context: EncryptionContext, objectId?: Uint8Array): Promise<WrappedKey> {
    const extra = objectId === undefined ? {} : { objectId: Buffer.from(objectId).toString("hex") };
    const r = await this.client.call<{ wrappedKey: WireEntry }>("POST", "/v1/wrap", { keyName, dataKey: b64(dataKey), context, ...extra });
    return this.#entry(r.wrappedKey);
  }

  async unwrap(entry: WrappedKey, context: EncryptionContext, object: AuditObject & { bytes?: number }): Promise<Buffer> {
    const wire = this.wireEntry(entry);
    // the cache id covers a v2 entry's whole binding: a hit is only the same entry in the same key block
    const cacheId = this.#cache ? DataKeyCache.id(entry, context, wire.binding ? JSON.stringify(wire.binding) : "") : undefined;
    if (this.#cache && cacheId) {
      const hit = this.#cache.get(cacheId, entry.keyName, entry.keyVersion, object?.bytes ?? 0);
      if (hit) return hit;
    }
    const r = await this.client.call<{ plaintext: string }>("POST", "/v1/unwrap", { wrappedKey: wire, context, object: auditObject(object) });
    const key = Buffer.from(r.plaintext, "base64");
    if (this.#cache && cacheId) this.#cache.put(cacheId, entry.keyName, entry.keyVersion, key, object?.bytes ?? 0);
    return key;
  }

  /** Keyring contract: the service records, under this client's identity, that the operation it released the key for failed. */
  async reportFailure(entry: WrappedKey, context: EncryptionContext, object: AuditObject, errorCode: string): Promise<void> {
    const path = object?.operation === "rewrap" ? "/v1/rewrap/failed" : "/v1/unwrap/failed";
    await this.client.call("POST", path, { wrappedKey: this.wireEntry(entry), context, object: auditObject(object), errorCode });
  }

  async rewrap(entry: WrappedKey, context: EncryptionContext, _object: AuditObject, upgrade?: EntryTarget): Promise<WrappedKey> {
    const extra = upgrade === undefined ? {} : { upgrade: toWireTarget({ ...upgrade, keyringLabel: this.id }) };
    const r = await this.client.call<{ wrappedKey: WireEntry }>("POST", "/v1/rewrap", { wrappedKey: this.wireEntry(entry), context, ...extra });
    const next = this.#entry(r.wrappedKey);
    // a v2 entry's wrap and tag bind the keyring id it records: a rewrap keeps that id (an
    // alias stays an alias); a v1 entry binds none, so it moves to this keyring's own id
    return entry.binding !== undefined && upgrade === undefined ? { ...next, keyring: entry.keyring } : next;
  }

  /** Field keys are not served by the key service (they would release KEK-derived secrets); use the local keystore for `pipeseal fields`. */
  async deriveFieldKey(): Promise<{ key: Buffer; version: number }> {
    throw new UsageError("INVALID_ARGUMENT", "field keys are not available through the key service; run field protection against a local keystore");
  }

  // ── key administration ──
  createKey(name: string, options: { rotateEverySeconds?: number } = {}): Promise<KeyInfo> {
    return this.client.call("POST", "/v1/keys/create", { name, ...options });
  }
  rotateKey(name: string): Promise<KeyInfo> {
    return this.client.call("POST", "/v1/keys/rotate", { name });
  }
  async listKeys(): Promise<KeyInfo[]> {
    return (await this.client.call<{ keys: KeyInfo[] }>("GET", "/v1/keys")).keys;
  }
  showKey(name: string): Promise<KeyInfo> {
    return this.client.call("POST", "/v1/keys/show", { name });
  }
  disableVersion(name: string, version: number): Promise<KeyInfo> {
    return this.client.call("POST", "/v1/keys/disable", { name, version });
  }
  enableVersion(name: string, version: number): Promise<KeyInfo> {
    return this.client.call("POST", "/v1/keys/enable", { name, version });
  }
  destroyVersion(name: string, version: number): Promise<KeyInfo> {
    return this.client.call("POST", "/v1/keys/destroy", { name, version });
  }
  setMinDecryptVersion(name: string, version: number): Promise<KeyInfo> {
    return this.client.call("POST", "/v1/keys/min-version", { name, version });
  }

  // ── audit ──
  async listAudit(options: { sinceMs?: number; limit?: number } = {}): Promise<AuditRecord[]> {
    const q = new URLSearchParams();
    if (options.limit !== undefined) q.set("limit", String(options.limit));
    if (options.sinceMs !== undefined) q.set("since", String(options.sinceMs));
    return (await this.client.call<{ records: AuditRecord[] }>("GET", `/v1/audit${q.size ? `?${q}` : ""}`)).records;
  }
  verifyAudit(): Promise<AuditVerifyResult> {
    return this.client.call("GET", "/v1/audit/verify");
  }
  /** A signed anchor of the service's chain head and its public key (docs/audit.md). Needs `audit.read`. */
  auditAnchor(): Promise<{ anchor: AnchorEnvelope; publicKey: string }> {
    return this.client.call("GET", "/v1/audit/anchor");
  }
  /** The service verifies its chain and whether it extends each anchor (anchor file texts). Needs `audit.read`. */
  verifyAuditAnchored(anchors: readonly string[]): Promise<AnchoredVerifyResult> {
    return this.client.call("POST", "/v1/audit/verify-anchors", { anchors });
  }
  /**
   * The audit log as export lines (src/audit/export.ts schema, each with its "\n"), oldest
   * first, streamed. Needs `audit.export`; the export is itself audited by the service.
   * @throws KeyServiceError(ACCESS_DENIED …) before any line; KeyServiceError(UNAVAILABLE) if
   *   the stream is cut short (a partial export is never returned as if whole).
   */
  exportAudit(options: { sinceMs?: number; afterSeq?: number } = {}): AsyncGenerator<string> {
    const q = new URLSearchParams();
    if (options.sinceMs !== undefined) q.set("since", String(Math.max(0, Math.floor(options.sinceMs))));
    if (options.afterSeq !== undefined) q.set("afterSeq", String(Math.max(0, Math.floor(options.afterSeq))));
    return exportLines(this.client, `/v1/audit/export${q.size > 0 ? `?${q}` : ""}`);
  }

  /**
   * The audit as it commits: the records after `afterSeq`, then each new one, and heartbeats
   * (GET /v1/audit/follow). One connection, authorized once (one audit record); follow again
   * from the last seq taken when it ends or drops. Needs `audit.export`.
   * @throws KeyServiceError(ACCESS_DENIED …) before any event; KeyServiceError(UNAVAILABLE) on a drop.
   */
  followAudit(options: FollowOptions = {}): AsyncGenerator<FollowEvent> {
    return followAudit(this.client, options);
  }

  // ── policy ──
  proposePolicy(policy: string): Promise<{ id: string; state: string }> {
    return this.client.call("POST", "/v1/policy/proposals", { policy });
  }
  approvePolicy(id: string): Promise<{ id: string; state: string; proposer: string; approver: string }> {
    return this.client.call("POST", "/v1/policy/approve", { id });
  }

  /** The active policy (with its YAML) and the open proposals (without); policy administrators only. */
  showPolicy(): Promise<{ active: (PolicySummary & { yaml: string }) | null; proposals: PolicySummary[] }> {
    return this.client.call("GET", "/v1/policy");
  }

  /** A bearer token bound to this client's identity (≤ 15 min). */
  mintToken(options: { ttlSeconds?: number; operations?: string[] } = {}): Promise<{ token: string; expiresAt: string; identity: string }> {
    return this.client.call("POST", "/v1/tokens", options);
  }

  /** The key service's secret store (docs/secrets.md). */
  get secrets(): RemoteSecrets {
    return new RemoteSecrets(this.client);
  }

  // ── delegation (this client is a delegate, e.g. the data gateway) ──
  /** A keyring whose unwraps are asked on behalf of `identity` (with the bearer token it showed, if any). */
  actingFor(identity: string, token?: string): Keyring {
    return delegatedKeyring(this, identity, token);
  }
  /** Whether a peer's bearer token is valid, and for which identity. Needs a `delegates` entry for that identity. */
  verifyPeerToken(token: string): Promise<VerifiedToken> {
    return verifyPeerToken(this.client, token);
  }
  /** Records this delegate's own events (gateway.deny, gateway.serve, gateway.reject) in the service's chain. */
  appendRecords(records: readonly DelegateRecord[]): Promise<void> {
    return appendRecords(this.client, records);
  }

  /** Wipes cached data keys and closes connections. */
  async close(): Promise<void> {
    this.#cache?.clear();
    await this.client.close();
  }
}

async function* exportLines(client: KeyServiceClient, path: string): AsyncGenerator<string> {
  const body = await client.stream(path, "application/x-ndjson");
  try {
    yield* splitLines(body as AsyncIterable<Uint8Array>);
  } catch (e) {
    throw new KeyServiceError(503, "UNAVAILABLE", "the audit export was cut short or garbled; run it again", { cause: e });
  } finally {
    body.destroy();
  }
}

function auditObject(o: AuditObject | undefined): Record<string, string> {
  const out: Record<string, string> = {};
  if (typeof o?.operation === "string") out.operation = o.operation;
  if (typeof o?.path === "string") out.path = o.path.slice(0, 1024);
  if (typeof o?.headerHash === "string") out.headerHash = o.headerHash;
  return out;
}

/** A policy as `/v1/policy` lists it (times in ms since the epoch). */
export interface PolicySummary {
  readonly id: string;
  readonly state: "proposed" | "active" | "superseded";
  readonly proposer: string;
  readonly proposedAt: number;
  readonly approver: string | null;
  readonly approvedAt: number | null;
}
