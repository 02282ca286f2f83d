/**
 * Opened sealed objects, one per principal × object: the first request of a principal for
 * an object opens it (one audited unwrap naming that principal), later requests within the
 * window reuse the reader. An entry lives at most `ttlMs` from its opening: then no request
 * may read through it, and it is closed (FLOE keys wiped) as soon as no read is running on
 * it, even while responses that started on it are still sending; those continue under a
 * renewed window (`renew`, a fresh audited unwrap; see lease.ts). Closing records what was
 * served (requests, ranges, bytes) in the audit chain.
 */
import { createHash } from "node:crypto";
import type { Stats } from "node:fs";
import { stat } from "node:fs/promises";
import type { AuditEvent } from "../audit/types.js";
import { type SealedFileReader, openSealedFile } from "../envelope/reader.js";
import { headerHash } from "../envelope/unlock.js";
import { ServiceError } from "../errors.js";
import type { GatewayBackend } from "./backend.js";

export interface OpenObject {
  readonly principal: string;
  readonly file: string;
  readonly reader: SealedFileReader;
  readonly headerHash: string;
  readonly stats: Stats;
  readonly openedAt: number;
  readonly expiresAt: number;
  /** Reads running through the keys now: an expired entry closes when this reaches 0. */
  reading: number;
  /** Past its TTL (or evicted): no new read may use it. */
  expired: boolean;
  /** Its keys are wiped and its summary recorded. */
  closed: boolean;
  requests: number;
  ranges: number;
  bytes: number;
}

/** The summary written when an entry closes. */
export const GATEWAY_SERVED = "gateway.serve";

export class OpenObjects {
  readonly #open = new Map<string, OpenObject>();
  readonly #opening = new Map<string, Promise<OpenObject>>();
  /** Entries whose keys are in memory (open, or expired with a read still running). */
  readonly #live = new Set<OpenObject>();
  // the bearer token an entry was opened with, kept out of the entry itself so nothing that logs an entry can show it
  readonly #tokens = new WeakMap<OpenObject, string>();

  constructor(
    private readonly backend: GatewayBackend,
    private readonly ttlMs: number,
    private readonly now: () => number,
    private readonly onError: (e: unknown) => void,
  ) {}

  /**
   * The principal's open entry for this exact file version, opening it if needed. With
   * `token` (a peer that authenticated with a bearer token), the entry is that token's:
   * another token of the same identity, perhaps narrower, opens its own.
   */
  async acquire(principal: string, file: string, stats: Stats, token?: string): Promise<OpenObject> {
    this.sweep();
    // the file's identity and version are part of the key: a replaced or rewritten file is a new object
    const tokenId = token === undefined ? null : createHash("sha256").update(token).digest("hex");
    const key = JSON.stringify([principal, tokenId, file, ...versionOf(stats)]);
    const hit = this.#open.get(key);
    if (hit && this.isLive(hit)) return hit;
    let pending = this.#opening.get(key);
    if (!pending) {
      pending = this.#openEntry(principal, file, stats, token).then((entry) => {
        this.#open.set(key, entry);
        return entry;
      });
      pending.finally(() => this.#opening.delete(key)).catch(() => undefined);
      this.#opening.set(key, pending);
    }
    return pending;
  }

  /** The entry may still be read through: not evicted, and its TTL has not passed on this clock. */
  isLive(entry: OpenObject): boolean {
    return !entry.expired && entry.expiresAt > this.now();
  }

  /**
   * Plaintext [offset, offset + length) through the entry's keys. An expired entry's keys are
   * wiped as soon as its last running read ends.
   * @throws ServiceError(GATEWAY_OBJECT_CHANGED) for an entry that is no longer live (renew it); what SealedFileReader.read throws.
   */
  async read(entry: OpenObject, offset: number, length: number): Promise<Buffer> {
    if (entry.closed) throw new ServiceError("GATEWAY_OBJECT_CHANGED", "the object's window closed before this read");
    entry.reading++;
    try {
      return await entry.reader.read(offset, length);
    } finally {
      entry.reading--;
      if (entry.expired && entry.reading === 0) this.#close(entry);
    }
  }

  /**
   * A live window for the same peer, token and object version as `old` (whose TTL has
   * passed): the current one if another response renewed it already, else a fresh audited
   * unwrap. A file replaced or rewritten since `old` opened is not spliced into a response.
   * @throws ServiceError(GATEWAY_OBJECT_CHANGED); whatever opening throws (KEY_DESTROYED, ACCESS_DENIED, …; the keyring has recorded it).
   */
  async renew(old: OpenObject): Promise<OpenObject> {
    const now = await stat(old.file).catch(() => undefined);
    if (!now || !sameVersion(now, old.stats)) throw new ServiceError("GATEWAY_OBJECT_CHANGED");
    const fresh = await this.acquire(old.principal, old.file, old.stats, this.#tokens.get(old));
    if (fresh.headerHash !== old.headerHash) {
      // replaced between the stat and the open: this window is of another object, and no response may use it under this name
      this.evict(fresh);
      throw new ServiceError("GATEWAY_OBJECT_CHANGED");
    }
    return fresh;
  }

  /** Drops an entry at once (a segment failed authentication): no further request uses it. */
  evict(entry: OpenObject): void {
    for (const [k, e] of this.#open) if (e === entry) this.#open.delete(k);
    this.#expire(entry);
  }

  /** Expires entries past their TTL; called on every acquire and by the gateway's timer. */
  sweep(): void {
    for (const [k, e] of this.#open) {
      if (this.isLive(e)) continue;
      this.#open.delete(k);
      this.#expire(e);
    }
  }

  /** How many readers (and FLOE keys) are in memory now. */
  get size(): number {
    return this.#live.size;
  }

  /** Closes everything (shutdown), each entry once its running read ends. */
  closeAll(): void {
    for (const [k, e] of this.#open) {
      this.#open.delete(k);
      this.#expire(e);
    }
  }

  #expire(e: OpenObject): void {
    e.expired = true;
    if (e.reading === 0) this.#close(e);
  }

  async #openEntry(principal: string, file: string, stats: Stats, token: string | undefined): Promise<OpenObject> {
    const reader = await openSealedFile(this.backend.keyringFor(principal, token), file);
    const openedAt = this.now();
    const entry: OpenObject = {
      principal,
      file,
      reader,
      headerHash: headerHash(reader.header),
      stats,
      openedAt,
      expiresAt: openedAt + this.ttlMs,
      reading: 0,
      expired: false,
      closed: false,
      requests: 0,
      ranges: 0,
      bytes: 0,
    };
    if (token !== undefined) this.#tokens.set(entry, token);
    this.#live.add(entry);
    return entry;
  }

  #close(e: OpenObject): void {
    if (e.closed) return;
    e.closed = true;
    this.#live.delete(e);
    e.reader.close().catch(this.onError);
    try {
      this.backend.record(servedEvent(e));
    } catch (err) {
      this.onError(err); // the bytes are already out; the failure is reported to the operator
    }
  }
}

/** What tells one version of a file from the next (replaced, rewritten): part of the open-entry key. */
const versionOf = (s: Stats): number[] => [s.dev, s.ino, s.size, s.mtimeMs];

function sameVersion(a: Stats, b: Stats): boolean {
  return versionOf(a).every((v, i) => v === versionOf(b)[i]);
}

/** The audit summary of one entry's window. */
export function servedEvent(e: OpenObject): AuditEvent {
  const key = e.reader.header.wrappedKeys[0];
  return {
    operation: GATEWAY_SERVED,
    principal: e.principal,
    outcome: "ok",
    keyName: key?.keyName ?? null,
    keyVersion: key?.keyVersion ?? null,
    objectPath: e.file,
    headerHash: e.headerHash,
    context: { requests: String(e.requests), ranges: String(e.ranges), bytes: String(e.bytes) },
  };
}
