/**
 * Opened sealed objects, one per principal × object: the first request of a principal for
 * an object opens it (one audited unwrap naming that principal), later requests within the
 * window reuse the reader. An entry lives at most `ttlMs` from its opening: then no new
 * request may use it, and it is closed (FLOE keys wiped) as soon as the responses already
 * using it end. Closing records what was served (requests, ranges, bytes) in the audit chain.
 */
import { createHash } from "node:crypto";
import type { Stats } from "node:fs";
import type { AuditEvent } from "../audit/types.js";
import { type SealedFileReader, openSealedFile } from "../envelope/reader.js";
import { headerHash } from "../envelope/unlock.js";
import type { GatewayBackend } from "./backend.js";

export interface OpenObject {
  readonly principal: string;
  readonly file: string;
  readonly reader: SealedFileReader;
  readonly headerHash: string;
  readonly mtimeMs: number;
  readonly openedAt: number;
  readonly expiresAt: number;
  users: number;
  expired: boolean;
  requests: number;
  ranges: number;
  bytes: number;
}

/** The summary written when an entry closes. */
export const GATEWAY_SERVED = "gateway.serve";

export class OpenObjects {
  readonly #open = new Map<string, OpenObject>();
  readonly #opening = new Map<string, Promise<OpenObject>>();

  constructor(
    private readonly backend: GatewayBackend,
    private readonly ttlMs: number,
    private readonly now: () => number,
    private readonly onError: (e: unknown) => void,
  ) {}

  /**
   * The principal's open entry for this exact file version, opening it if needed; `release`
   * it when done. With `token` (a peer that authenticated with a bearer token), the entry is
   * that token's: another token of the same identity, perhaps narrower, opens its own.
   */
  async acquire(principal: string, file: string, stats: Stats, token?: string): Promise<OpenObject> {
    this.sweep();
    // the file's identity and version are part of the key: a replaced or rewritten file is a new object
    const tokenId = token === undefined ? null : createHash("sha256").update(token).digest("hex");
    const key = JSON.stringify([principal, tokenId, file, stats.dev, stats.ino, stats.size, stats.mtimeMs]);
    const hit = this.#open.get(key);
    if (hit && !hit.expired) {
      hit.users++;
      return hit;
    }
    let pending = this.#opening.get(key);
    if (!pending) {
      pending = this.#openEntry(principal, file, stats, token).finally(() => this.#opening.delete(key));
      this.#opening.set(key, pending);
      const entry = await pending;
      this.#open.set(key, entry);
      entry.users++;
      return entry;
    }
    const entry = await pending;
    entry.users++;
    return entry;
  }

  release(entry: OpenObject): void {
    entry.users--;
    if (entry.expired && entry.users === 0) this.#close(entry);
  }

  /** Drops an entry at once (a segment failed authentication): no further request uses it. */
  evict(entry: OpenObject): void {
    for (const [k, e] of this.#open) if (e === entry) this.#open.delete(k);
    entry.expired = true;
    if (entry.users === 0) this.#close(entry);
  }

  /** Expires entries past their TTL; called on every acquire and by the gateway's timer. */
  sweep(): void {
    const t = this.now();
    for (const [k, e] of this.#open) {
      if (e.expiresAt > t) continue;
      this.#open.delete(k);
      e.expired = true;
      if (e.users === 0) this.#close(e);
    }
  }

  /** How many readers (and FLOE keys) are in memory now. */
  get size(): number {
    return this.#open.size;
  }

  /** Closes everything (shutdown): entries still in use close when their responses end. */
  closeAll(): void {
    for (const [k, e] of this.#open) {
      this.#open.delete(k);
      e.expired = true;
      if (e.users === 0) this.#close(e);
    }
  }

  async #openEntry(principal: string, file: string, stats: Stats, token: string | undefined): Promise<OpenObject> {
    const reader = await openSealedFile(this.backend.keyringFor(principal, token), file);
    const openedAt = this.now();
    return { principal, file, reader, headerHash: headerHash(reader.header), mtimeMs: stats.mtimeMs, openedAt, expiresAt: openedAt + this.ttlMs, users: 0, expired: false, requests: 0, ranges: 0, bytes: 0 };
  }

  #close(e: OpenObject): void {
    e.reader.close().catch(this.onError);
    try {
      this.backend.record(servedEvent(e));
    } catch (err) {
      this.onError(err); // the bytes are already out; the failure is reported to the operator
    }
  }
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
