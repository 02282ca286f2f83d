/**
 * Allow-lists: findings that are known and accepted. Exact values are listed by keyed hash
 * (HMAC-SHA-256 under the allow-list key, hex), so the policy file never holds the value it
 * allows; patterns are regular expressions tested against the matched text.
 */
import { createHmac } from "node:crypto";
import type { Finding } from "./types.js";

export interface AllowList {
  /** HMAC-SHA-256(key, value) in hex, as made by `allowListHash`. */
  readonly hashes?: readonly string[];
  /** Key for `hashes` (at least 16 bytes). */
  readonly key?: Uint8Array;
  /** Values matching any of these are allowed (e.g. `@example\\.com$`). */
  readonly patterns?: readonly RegExp[];
  /** Detector ids this list applies to (default: all). */
  readonly detectors?: readonly string[];
}

/**
 * The entry to put in an allow-list for `value`.
 * @example allowListHash(key, "ci-bot@example.org") // "9b1c…"
 */
export function allowListHash(key: Uint8Array, value: string): string {
  if (key.length < 16) throw new RangeError("allow-list key must be at least 16 bytes");
  return createHmac("sha256", key).update(value, "utf8").digest("hex");
}

/** A predicate: true if the finding over `text` is allowed. */
export function allowPredicate(list: AllowList): (finding: Finding, text: string) => boolean {
  const hashes = new Set((list.hashes ?? []).map((h) => h.toLowerCase()));
  if (hashes.size > 0 && !list.key) throw new TypeError("an allow-list with hashes needs its key");
  const patterns = (list.patterns ?? []).map((p) => new RegExp(p.source, p.flags.replace(/[gy]/g, "")));
  const only = list.detectors ? new Set(list.detectors) : null;
  return (f, text) => {
    if (only && !only.has(f.detector)) return false;
    const value = text.slice(f.start, f.end);
    if (patterns.some((p) => p.test(value))) return true;
    return hashes.size > 0 && hashes.has(allowListHash(list.key!, value));
  };
}
