/** What route handlers share: the store, the authorizer, token keys, the clock and limits. */
import type { FastifyRequest } from "fastify";
import type { Decision, Policy } from "./policy/index.js";
import { type AccessTarget, type Authorizer, accessRequest } from "./authz.js";
import type { KeyStore } from "./store/types.js";
import type { TokenKeys } from "./tokens.js";
import type { AuditObject } from "../keys/keyring.js";

export interface Service {
  readonly store: KeyStore;
  readonly authz: Authorizer;
  readonly tokens: TokenKeys;
  /** The keyring id clients should record in sealed-file headers (e.g. "ks:keys.internal"). */
  readonly keyringId: string;
  readonly now: () => number;
  /** Longest token lifetime this service mints (seconds, ≤ 900). */
  readonly tokenTtlSeconds: number;
  /**
   * Set when callers without a client certificate may authenticate with a bearer token alone
   * (config `tokensWithoutCertificate`): the allow-list its `sub` must still match.
   */
  readonly tokensWithoutCertificate: { readonly allow: readonly string[] } | null;
}

declare module "fastify" {
  interface FastifyRequest {
    /** The caller's SPIFFE ID (mTLS certificate, and a bearer token must name the same one; or, without a certificate, the token's). */
    principal: string;
    auth: "mtls" | "token";
    tokenOps: readonly string[] | undefined;
  }
}

/** Authorizes `operation` for the request's caller (decision audited first). */
export function allow(svc: Service, req: FastifyRequest, operation: string, target: AccessTarget = {}, decider?: (policy: Policy) => Decision): Promise<Decision> {
  return svc.authz.authorize(accessRequest(req, operation, target), decider);
}

/** A store that can also derive stable per-(key, version, purpose) secrets (HMAC, signing seeds, token keys). */
export interface DerivingStore extends KeyStore {
  deriveKey(principal: string, keyName: string, version: number | "primary", purpose: string, object: AuditObject, length?: number): Promise<{ key: Buffer; version: number }>;
}

export function canDerive(store: KeyStore): store is DerivingStore {
  return typeof (store as Partial<DerivingStore>).deriveKey === "function";
}
