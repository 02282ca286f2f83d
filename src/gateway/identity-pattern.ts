/**
 * SPIFFE identity patterns for the gateway: `spiffe://<trust-domain>/<env>/<service>` where
 * the env and service parts may hold `*` wildcards inside a segment (`trainer*`,
 * `*-eval`), so one pattern admits a family of jobs. The trust domain is never a wildcard.
 */
import { UsageError } from "../errors.js";
import { parseSpiffeId } from "../pki/identity.js";

export interface IdentityPattern {
  readonly source: string;
  readonly trustDomain: string;
  readonly env: RegExp;
  readonly service: RegExp;
  /** The same pattern with every wildcard segment widened to `*`: what the TLS gate's allow-list accepts. */
  readonly gate: string;
}

const SHAPE = /^spiffe:\/\/([^/*]+)\/([^/]+)\/([^/]+)$/;

/** @throws UsageError(INVALID_ARGUMENT) naming the pattern. */
export function compileIdentityPattern(source: string, where = "identity pattern"): IdentityPattern {
  const m = typeof source === "string" ? SHAPE.exec(source) : null;
  if (!m)
    throw new UsageError(
      "INVALID_ARGUMENT",
      `${where} "${String(source).slice(0, 80)}" is not spiffe://<trust-domain>/<env>/<service> (env and service may contain *)`,
    );
  const [, td, env, service] = m as unknown as [string, string, string, string];
  // the literal parts must be valid SPIFFE segments once the stars are taken out
  parseSpiffeId(`spiffe://${td}/${env.replace(/\*/g, "x")}/${service.replace(/\*/g, "x")}`);
  const seg = (s: string) => new RegExp(`^${s.replace(/\./g, "\\.").replace(/\*/g, "[A-Za-z0-9._-]*")}$`);
  const wide = (s: string) => (s.includes("*") ? "*" : s);
  return Object.freeze({ source, trustDomain: td, env: seg(env), service: seg(service), gate: `spiffe://${td}/${wide(env)}/${wide(service)}` });
}

/** True if the SPIFFE ID matches the pattern exactly (a malformed ID matches nothing). */
export function identityMatches(pattern: IdentityPattern, spiffeId: string): boolean {
  let id;
  try {
    id = parseSpiffeId(spiffeId);
  } catch {
    return false;
  }
  return id.trustDomain === pattern.trustDomain && pattern.env.test(id.env) && pattern.service.test(id.service);
}
