/**
 * Short-lived bearer tokens, minted over mTLS and bound to the minting identity.
 *
 *   token = "pst1." || b64url(payload JSON) || "." || b64url(HMAC-SHA-256(K, "pst1." || b64url(payload)))
 *   payload = { sub: SPIFFE ID, iat, exp (epoch ms), nonce (128-bit hex), kv: token-key version, ops?: [...], cs?: serial }
 *
 * K is derived (HKDF, see LocalKeystore.deriveFieldKey) from a version of the service's
 * token key in the store, so every replica on the same store verifies every replica's
 * tokens, and rotating that key revokes all tokens of older versions once they are disabled.
 *
 * Security guarantees: integrity and authenticity of the payload (HMAC, RFC 2104, compared in
 * constant time); a token is refused after `exp`, and refused when presented with an mTLS
 * identity other than `sub`. Tokens narrow (never widen) what the identity may do: `ops`,
 * when present, limits the operations; the policy still decides each request. Presented
 * without any client certificate (a service that allows it: `tokensWithoutCertificate`),
 * a token is a bearer credential for `sub` until `exp`: keep lifetimes short.
 *
 * `cs` is the serial (lowercase hex) of the client certificate the token was minted over. Once
 * that certificate is revoked (the service's `tls.crl`), the token is refused too, whichever
 * certificate (or none) presents it. The CRLs are searched for the serial alone: a CA's serials
 * are unique (RFC 5280 §4.1.2.2), and a collision across two trusted CAs refuses a token, never
 * admits one.
 */
import { createHmac, randomBytes, timingSafeEqual } from "node:crypto";
import { normalizeSerial } from "../pki/ca/x509-util.js";
import { ServiceError } from "./errors.js";

/** Longest lifetime of a token (15 min). */
export const MAX_TOKEN_TTL_SECONDS = 900;
const PREFIX = "pst1.";

export interface TokenClaims {
  readonly sub: string;
  readonly iat: number;
  readonly exp: number;
  readonly nonce: string;
  readonly kv: number;
  readonly ops?: readonly string[];
  /** Serial of the certificate the token was minted over. */
  readonly cs?: string;
}

/** Where the HMAC key of a version comes from (the store, through an audited derivation). */
export interface TokenKeys {
  /** The current version and its key (for minting). */
  current(): Promise<{ version: number; key: Buffer }>;
  /** The key of a version (for verifying); throws a typed error when it is unusable. */
  byVersion(version: number): Promise<Buffer>;
}

export async function mintToken(
  keys: TokenKeys,
  sub: string,
  ttlSeconds: number,
  nowMs: number,
  options: { readonly ops?: readonly string[]; readonly certSerial?: string } = {},
): Promise<{ token: string; claims: TokenClaims }> {
  if (!Number.isInteger(ttlSeconds) || ttlSeconds < 1 || ttlSeconds > MAX_TOKEN_TTL_SECONDS) {
    throw new ServiceError("INVALID_ARGUMENT", `a token lives 1 to ${MAX_TOKEN_TTL_SECONDS} seconds`);
  }
  const { version, key } = await keys.current();
  const claims: TokenClaims = {
    sub,
    iat: nowMs,
    exp: nowMs + ttlSeconds * 1000,
    nonce: randomBytes(16).toString("hex"),
    kv: version,
    ...(options.ops ? { ops: [...options.ops] } : {}),
    ...(options.certSerial !== undefined ? { cs: normalizeSerial(options.certSerial) } : {}),
  };
  const payload = PREFIX + Buffer.from(JSON.stringify(claims)).toString("base64url");
  return { token: `${payload}.${mac(key, payload).toString("base64url")}`, claims };
}

/**
 * Verifies a token presented by `identity` (the mTLS peer of the request), or by a caller
 * without a client certificate (`null`). `revoked` says whether a certificate serial is revoked
 * now (the service's CRL; none configured: never).
 * @throws ServiceError(UNAUTHENTICATED) for any malformed, forged, expired, foreign or revoked token (one message per case, no key detail).
 */
export async function verifyToken(
  keys: TokenKeys,
  token: string,
  identity: string | null,
  nowMs: number,
  revoked: (serial: string) => boolean = () => false,
): Promise<TokenClaims> {
  const bad = (why: string) => new ServiceError("UNAUTHENTICATED", `bearer token refused: ${why}`);
  if (typeof token !== "string" || token.length > 4096 || !token.startsWith(PREFIX)) throw bad("malformed");
  const dot = token.lastIndexOf(".");
  const payload = token.slice(0, dot);
  const sig = Buffer.from(token.slice(dot + 1), "base64url");
  let claims: TokenClaims;
  try {
    claims = JSON.parse(Buffer.from(payload.slice(PREFIX.length), "base64url").toString("utf8")) as TokenClaims;
  } catch {
    throw bad("malformed");
  }
  if (
    !claims ||
    typeof claims !== "object" ||
    typeof claims.sub !== "string" ||
    !Number.isSafeInteger(claims.exp) ||
    !Number.isSafeInteger(claims.kv) ||
    claims.kv < 1
  )
    throw bad("malformed");
  let key: Buffer;
  try {
    key = await keys.byVersion(claims.kv);
  } catch {
    throw bad("signed by a key version that is no longer usable");
  }
  const want = mac(key, payload);
  if (sig.length !== want.length || !timingSafeEqual(sig, want)) throw bad("signature does not verify");
  if (claims.exp <= nowMs) throw bad("expired");
  if (identity !== null && claims.sub !== identity) throw bad("minted for another identity");
  if (claims.ops !== undefined && !(Array.isArray(claims.ops) && claims.ops.every((o) => typeof o === "string"))) throw bad("malformed");
  if (claims.cs !== undefined && (typeof claims.cs !== "string" || !/^[0-9a-f]{2,42}$/.test(claims.cs))) throw bad("malformed");
  if (claims.cs !== undefined && revoked(claims.cs)) throw bad("minted over a certificate that is now revoked");
  return claims;
}

function mac(key: Buffer, payload: string): Buffer {
  return createHmac("sha256", key).update(payload).digest();
}
