/** What route handlers share: the store, the authorizer, token keys, the clock and limits. */
import type { FastifyRequest } from "fastify";
import type { Decision, Policy } from "./policy/index.js";
import { type AccessTarget, type AuthorizedOp, type Authorizer, accessRequest } from "./authz.js";
import { routeOperation } from "./routes/register.js";
import type { Actor, Attributed } from "./store/actor.js";
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
  /** Whether a client certificate serial is revoked now (`tls.crl`); a token minted over one is refused. */
  readonly certificateRevoked: (serial: string) => boolean;
}

declare module "fastify" {
  interface FastifyRequest {
    /** The caller's SPIFFE ID (mTLS certificate, and a bearer token must name the same one; or, without a certificate, the token's). */
    principal: string;
    auth: "mtls" | "token";
    tokenOps: readonly string[] | undefined;
  }
}

/** How {@link permit} runs: what to do with a value it will not release, and a decider on the parsed request. */
export interface PermitOptions<T> {
  /** Wipes a value the request will not return (a record failed): data keys, plaintexts. */
  readonly discard?: (value: T) => void;
  readonly decider?: (policy: Policy) => Decision;
}

/**
 * Authorizes the request's route operation (declared once, in the route table: ROUTES' `op`,
 * read through routeOperation) for its caller on `target`, and runs `op` as the caller with
 * the decision attached: ONE audit record for the operation, carrying the rule (Authorizer.authorizeWith).
 * `op` calls the store synchronously, passing `who` as the principal.
 * @throws ServiceError(ACCESS_DENIED) (recorded); what `op` throws; AuditError(AUDIT_WRITE_FAILED)
 */
export function permit<T>(
  svc: Service,
  req: FastifyRequest,
  target: AccessTarget,
  op: (who: Attributed) => Promise<T>,
  options: PermitOptions<T> = {},
): Promise<T> {
  return permitAs(svc, req, routeOperation(req), target, op, options);
}

/**
 * {@link permit} for a request outside the route table (the dashboard's pages and actions at
 * /ui/), which names its operation here: the same one record for the operation, with its rule.
 */
export function permitAs<T>(
  svc: Service,
  req: FastifyRequest,
  operation: string,
  target: AccessTarget,
  op: (who: Attributed) => Promise<T>,
  options: PermitOptions<T> = {},
): Promise<T> {
  return svc.authz.authorizeWith(accessRequest(req, operation, target), op, options.discard, options.decider);
}

/** One item of a batch request, authorized as the route's operation (Authorizer.authorizeEach). */
export function permitItem<T>(
  req: FastifyRequest,
  target: AccessTarget,
  op: (who: Attributed) => Promise<T>,
  on?: AccessTarget["onBehalfOf"],
): AuthorizedOp<T> {
  return { req: accessRequest(req, routeOperation(req), { ...target, ...(on ? { onBehalfOf: on } : {}) }), op };
}

/** A store that can also derive stable per-(key, version, purpose) secrets (HMAC, signing seeds, token keys). */
export interface DerivingStore extends KeyStore {
  deriveKey(
    principal: Actor,
    keyName: string,
    version: number | "primary",
    purpose: string,
    object: AuditObject,
    length?: number,
  ): Promise<{ key: Buffer; version: number }>;
}

export function canDerive(store: KeyStore): store is DerivingStore {
  return typeof (store as Partial<DerivingStore>).deriveKey === "function";
}
