/**
 * The client's data-key cache: unwrapped data keys kept in memory so that a job opening
 * many objects under one wrapped key does not call the service each time. OFF unless
 * configured. Limits: max age, max uses, max bytes per key, max entries (least recently used
 * is evicted). Every decision (hit, miss, expired, limit, evict, store) goes to `log`.
 *
 * Security: a hit is not audited by the service (the first unwrap was); a key disabled or
 * destroyed on the service stays usable from the cache until `maxAgeMs` runs out. Entries are
 * looked up by SHA-256 of (key name, version, wrapped bytes, canonical context), so a hit
 * needs the identical wrapped key and context. Keys are wiped on eviction, expiry and clear;
 * callers get copies.
 */
import { createHash } from "node:crypto";
import { encodeContext } from "../keys/context.js";
import type { EncryptionContext, WrappedKey } from "../keys/keyring.js";
import { UsageError } from "../errors.js";

export interface CacheLimits {
  /** How long an entry lives (ms). */
  readonly maxAgeMs: number;
  /** Hits allowed per entry (the unwrap that filled it not counted). Default unlimited. */
  readonly maxUses?: number;
  /** Plaintext bytes that may be processed under one cached key (callers report bytes). Default unlimited. */
  readonly maxBytes?: number;
  /** Entries at most (default 1000). */
  readonly maxEntries?: number;
}

export type CacheDecision = "hit" | "miss" | "expired" | "limit" | "evict" | "store" | "clear";

export interface CacheEvent {
  readonly decision: CacheDecision;
  readonly keyName: string;
  readonly keyVersion: number;
  /** For expired/limit: which limit. */
  readonly reason?: "max-age" | "max-uses" | "max-bytes" | "max-entries";
  readonly uses?: number;
  readonly ageMs?: number;
}

interface Entry {
  readonly key: Buffer;
  readonly keyName: string;
  readonly keyVersion: number;
  readonly at: number;
  uses: number;
  bytes: number;
}

export class DataKeyCache {
  readonly #limits: Required<CacheLimits>;
  readonly #entries = new Map<string, Entry>();
  readonly #log: (e: CacheEvent) => void;
  readonly #now: () => number;

  constructor(limits: CacheLimits, log: (e: CacheEvent) => void = () => undefined, now: () => number = Date.now) {
    const l = { maxUses: Number.POSITIVE_INFINITY, maxBytes: Number.POSITIVE_INFINITY, maxEntries: 1000, ...limits };
    for (const [k, v] of Object.entries(l))
      if (typeof v !== "number" || !(v > 0)) throw new UsageError("INVALID_ARGUMENT", `cache limit ${k} must be a positive number`);
    this.#limits = l;
    this.#log = log;
    this.#now = now;
  }

  static id(entry: WrappedKey, context: EncryptionContext, binding = ""): string {
    return createHash("sha256")
      .update(`${entry.keyName}\0${entry.keyVersion}\0`)
      .update(entry.wrapped)
      .update(encodeContext(context))
      .update(`\0${binding}`)
      .digest("base64");
  }

  /** A copy of the cached key (the caller wipes it), or undefined. `bytes`: plaintext bytes the caller is about to process under it. */
  get(id: string, keyName: string, keyVersion: number, bytes = 0): Buffer | undefined {
    const e = this.#entries.get(id);
    if (!e) {
      this.#log({ decision: "miss", keyName, keyVersion });
      return undefined;
    }
    const ageMs = this.#now() - e.at;
    const limit =
      ageMs >= this.#limits.maxAgeMs
        ? "max-age"
        : e.uses >= this.#limits.maxUses
          ? "max-uses"
          : e.bytes + bytes > this.#limits.maxBytes
            ? "max-bytes"
            : undefined;
    if (limit) {
      this.#drop(id, e);
      this.#log({ decision: limit === "max-age" ? "expired" : "limit", reason: limit, keyName, keyVersion, uses: e.uses, ageMs });
      return undefined;
    }
    e.uses++;
    e.bytes += bytes;
    this.#entries.delete(id); // LRU order
    this.#entries.set(id, e);
    this.#log({ decision: "hit", keyName, keyVersion, uses: e.uses, ageMs });
    return Buffer.from(e.key);
  }

  /** Keeps a copy of `key`. */
  put(id: string, keyName: string, keyVersion: number, key: Buffer, bytes = 0): void {
    const old = this.#entries.get(id);
    if (old) this.#drop(id, old);
    this.#entries.set(id, { key: Buffer.from(key), keyName, keyVersion, at: this.#now(), uses: 0, bytes });
    this.#log({ decision: "store", keyName, keyVersion });
    while (this.#entries.size > this.#limits.maxEntries) {
      const [oldId, oldest] = this.#entries.entries().next().value as [string, Entry];
      this.#drop(oldId, oldest);
      this.#log({ decision: "evict", reason: "max-entries", keyName: oldest.keyName, keyVersion: oldest.keyVersion });
    }
  }

  get size(): number {
    return this.#entries.size;
  }

  /** Wipes and forgets every entry. */
  clear(): void {
    for (const [id, e] of this.#entries) this.#drop(id, e);
    this.#log({ decision: "clear", keyName: "*", keyVersion: 0 });
  }

  #drop(id: string, e: Entry): void {
    e.key.fill(0);
    this.#entries.delete(id);
  }
}
