/**
 * Redaction operators: what replaces a finding.
 * - `redact`  → `[EMAIL]`
 * - `mask`    → `************4242`: same length, last 4 kept (all masked when the value is
 *               shorter than 8, or than 20 for secrets, so little of a short secret leaks)
 * - `hash`    → `[EMAIL:3f2a9c1e]`: HMAC-SHA-256 under a 32-byte key, first `hashLength`
 *               hex chars (default 8, i.e. 32 bits: collisions expected after ~65k distinct
 *               values; raise it for joins). Stable per key, so the same value maps to the
 *               same pseudonym across logs; without the key it cannot be reversed or confirmed.
 * - `encrypt` → `[ENC:…]`: the value sealed with `sealBuffer` under a named key, base64url.
 *               Reversible through the keyring (`pipeseal redact --reveal`), which audits every
 *               unwrap. Costs one key wrap per value.
 * - `tokenize` → `4716 0392 8841 4242`: a format-preserving FF1 token of the same shape under a
 *               keystore key, deterministic (same value → same token); reversed explicitly with
 *               `revealToken` / `pipeseal redact --reveal-token` (audited). See tokenize.ts.
 */
import { createHmac } from "node:crypto";
import { sealBuffer } from "../envelope/buffer.js";
import { UsageError } from "../errors.js";
import type { EncryptionContext, Keyring } from "../keys/keyring.js";
import type { Finding } from "./types.js";

export type Operator = "redact" | "mask" | "hash" | "encrypt" | "tokenize";
export const OPERATORS: readonly Operator[] = ["redact", "mask", "hash", "encrypt", "tokenize"];

export interface EncryptTarget {
  readonly keyring: Keyring;
  readonly keyName: string;
  /** Bound to every sealed value (never put secrets here). Default { purpose: "redact" }. */
  readonly context?: EncryptionContext;
}

/** `[ENC:…]` tokens as the encrypt operator writes them. */
export const ENC_TOKEN = /\[ENC:([A-Za-z0-9_-]{16,})\]/g;

export function redactOp(f: Finding): string {
  return `[${f.label}]`;
}

export function maskOp(f: Finding, value: string): string {
  const keep = value.length >= (f.kind === "secret" ? 20 : 8) ? 4 : 0;
  return "*".repeat(value.length - keep) + value.slice(value.length - keep);
}

export function hashOp(f: Finding, value: string, key: Uint8Array, length = 8): string {
  return `[${f.label}:${createHmac("sha256", key).update(value, "utf8").digest("hex").slice(0, length)}]`;
}

export async function encryptOp(f: Finding, value: string, target: EncryptTarget): Promise<string> {
  const context = { purpose: "redact", detector: f.detector, ...(target.context ?? {}) };
  const sealed = await sealBuffer(target.keyring, Buffer.from(value, "utf8"), { keyName: target.keyName, context, segmentSize: 1024 });
  return `[ENC:${sealed.toString("base64url")}]`;
}

/** Checks a hash key: 32 bytes or more. */
export function checkHashKey(key: Uint8Array | undefined): Uint8Array {
  if (!key) throw new UsageError("INVALID_ARGUMENT", "the hash operator needs a hash key (32 bytes; --hash-key-file or hashKeyFile in the policy)");
  if (key.length < 32) throw new UsageError("INVALID_ARGUMENT", "the hash key must be at least 32 bytes");
  return key;
}
