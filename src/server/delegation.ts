/**
 * The identity a delegate's request is for (`onBehalfOf`, and the bearer token that identity
 * showed the delegate, if any). A delegate must hold a client certificate: a bearer token
 * alone never acts for anyone else. A token given must verify and be minted for exactly that
 * identity; its operations then narrow the request like the identity's own token would.
 */
import type { FastifyRequest } from "fastify";
import { peerOf } from "../pki/mtls/gate.js";
import type { OnBehalfOf } from "./authz.js";
import { ServiceError } from "./errors.js";
import type { Service } from "./service.js";
import { verifyToken } from "./tokens.js";

/** @throws ServiceError(INVALID_ARGUMENT | UNAUTHENTICATED) */
export async function onBehalfOf(svc: Service, req: FastifyRequest, item: { onBehalfOf?: string; onBehalfToken?: string }): Promise<OnBehalfOf | undefined> {
  if (item.onBehalfOf === undefined) {
    if (item.onBehalfToken !== undefined) throw new ServiceError("INVALID_ARGUMENT", "onBehalfToken needs onBehalfOf");
    return undefined;
  }
  requireCertificate(req);
  if (item.onBehalfToken === undefined) return { identity: item.onBehalfOf, auth: "mtls" };
  const claims = await verifyToken(svc.tokens, item.onBehalfToken, item.onBehalfOf, svc.now(), svc.certificateRevoked);
  return { identity: claims.sub, auth: "token", ...(claims.ops ? { tokenOps: claims.ops } : {}) };
}

/** A delegate's calls come over mTLS with its own certificate. @throws ServiceError(UNAUTHENTICATED) */
export function requireCertificate(req: FastifyRequest): void {
  if (peerOf(req.raw) === undefined) throw new ServiceError("UNAUTHENTICATED", "a delegate must present its client certificate");
}
