/**
 * Service identities as SPIFFE IDs (`spiffe://<trust-domain>/<env>/<service>`, SPIFFE ID
 * spec §2), carried in a certificate's URI SAN, and allow-lists that match them.
 */
import { UsageError } from "../errors.js";

export interface ServiceIdentity {
  readonly trustDomain: string;
  readonly env: string;
  readonly service: string;
}

// SPIFFE ID spec §2.1: trust domain = lowercase letters, digits, dots, dashes, underscores
const TRUST_DOMAIN = /^[a-z0-9._-]{1,255}$/;
// §2.2 path segments: letters, digits, dots, dashes, underscores; not "." or ".."
const SEGMENT = /^[A-Za-z0-9._-]{1,128}$/;

function checkSegment(what: string, value: string): void {
  if (!SEGMENT.test(value) || value === "." || value === "..") {
    throw new UsageError("INVALID_ARGUMENT", `${what} "${value.slice(0, 60)}" must be 1-128 characters of A-Z a-z 0-9 . _ -`);
  }
}

/** `spiffe://td/env/service`. @throws UsageError(INVALID_ARGUMENT) on a bad part. */
export function spiffeId(id: ServiceIdentity): string {
  if (!TRUST_DOMAIN.test(id.trustDomain)) {
    throw new UsageError("INVALID_ARGUMENT", `trust domain "${id.trustDomain.slice(0, 60)}" must be lowercase letters, digits, . _ -`);
  }
  checkSegment("environment", id.env);
  checkSegment("service name", id.service);
  return `spiffe://${id.trustDomain}/${id.env}/${id.service}`;
}

/** Parses a pipeseal SPIFFE ID. @throws UsageError(INVALID_ARGUMENT) if it is not one. */
export function parseSpiffeId(uri: string): ServiceIdentity {
  const m = /^spiffe:\/\/([^/]+)\/([^/]+)\/([^/]+)$/.exec(uri);
  if (!m) throw new UsageError("INVALID_ARGUMENT", `"${uri.slice(0, 100)}" is not a spiffe://<trust-domain>/<env>/<service> identity`);
  const id = { trustDomain: m[1], env: m[2], service: m[3] };
  spiffeId(id); // validates every part
  return id;
}

/**
 * True if `identity` matches one of the patterns. A pattern is a SPIFFE ID whose env or
 * service part may be a star standing for any one segment (every service in prod; the
 * trainer in every env). The trust domain is never a wildcard.
 */
export function identityAllowed(identity: string, patterns: readonly string[]): boolean {
  let id: ServiceIdentity;
  try {
    id = parseSpiffeId(identity);
  } catch {
    return false;
  }
  return patterns.some((pattern) => {
    const m = /^spiffe:\/\/([^/]+)\/([^/]+)\/([^/]+)$/.exec(pattern);
    if (!m) return false;
    return m[1] === id.trustDomain && (m[2] === "*" || m[2] === id.env) && (m[3] === "*" || m[3] === id.service);
  });
}
