/** Key-name patterns (`datasets/*`, `prod/**`) and SPIFFE identity patterns. */
import { parseSpiffeId, type ServiceIdentity, spiffeId } from "../../pki/identity.js";

/** Characters of a key-name pattern: a key name's characters plus `*`. */
const KEY_PATTERN_CHARS = /^[a-z0-9*][a-z0-9._/*-]{0,127}$/;

export interface KeyPattern {
  readonly source: string;
  /** One entry per `/` segment: `"**"` (zero or more segments) or a RegExp for one segment. */
  readonly segments: readonly ("**" | RegExp)[];
}

/**
 * Returns an error message, or undefined if `p` is a valid key-name pattern. The message never
 * repeats the pattern: it may come from a file that is not a policy at all.
 */
export function keyPatternError(p: unknown): string | undefined {
  if (typeof p !== "string" || !KEY_PATTERN_CHARS.test(p)) return "a key pattern is 1-128 characters of a-z 0-9 . _ / - and *";
  const segs = p.split("/");
  if (segs.some((s) => s === "")) return "the key pattern has an empty segment";
  for (const s of segs) {
    if (s.includes("**") && s !== "**") return "in a key pattern, ** must be a whole segment (e.g. prod/**)";
  }
  if (segs.filter((s) => s === "**").length > 2) return "the key pattern has more than two ** segments";
  return undefined;
}

export function compileKeyPattern(p: string): KeyPattern {
  const segments = p.split("/").map((s) => (s === "**" ? ("**" as const) : new RegExp(`^${s.replace(/[.]/g, "\\.").replace(/\*/g, "[^/]*")}$`)));
  return Object.freeze({ source: p, segments: Object.freeze(segments) });
}

/**
 * True only if every key name `narrow` matches is also matched by `wide` (conservative:
 * false when unsure). Used to tell whether a proposal widens someone's own access.
 */
export function keyPatternCovers(wide: KeyPattern, narrow: KeyPattern): boolean {
  const w = wide.source.split("/");
  const n = narrow.source.split("/");
  const segCovers = (ws: string, ns: string): boolean => {
    if (ns === "**") return false; // only ** covers **
    if (ws === ns || ws === "*") return true;
    if (ns.includes("*")) return false; // a partial wildcard against another pattern: don't guess
    const seg = compileKeyPattern(ws).segments[0];
    return seg !== "**" && seg.test(ns);
  };
  // reach[j]: wide's prefix so far covers narrow[0..j)
  let reach = new Array<boolean>(n.length + 1).fill(false);
  reach[0] = true;
  for (const ws of w) {
    const next = new Array<boolean>(n.length + 1).fill(false);
    if (ws === "**") {
      let any = false;
      for (let j = 0; j <= n.length; j++) {
        any = any || reach[j];
        next[j] = any;
      }
    } else {
      for (let j = 0; j < n.length; j++) if (reach[j] && segCovers(ws, n[j])) next[j + 1] = true;
    }
    reach = next;
  }
  return reach[n.length];
}

/** `*` = any characters within one segment, `**` = zero or more whole segments. */
export function keyMatches(pattern: KeyPattern, keyName: string): boolean {
  const key = keyName.split("/");
  const pat = pattern.segments;
  // reach[j]: pattern prefix so far can consume exactly key[0..j)
  let reach = new Array<boolean>(key.length + 1).fill(false);
  reach[0] = true;
  for (const seg of pat) {
    const next = new Array<boolean>(key.length + 1).fill(false);
    if (seg === "**") {
      let any = false;
      for (let j = 0; j <= key.length; j++) {
        any = any || reach[j];
        next[j] = any;
      }
    } else {
      for (let j = 0; j < key.length; j++) if (reach[j] && seg.test(key[j])) next[j + 1] = true;
    }
    reach = next;
  }
  return reach[key.length];
}

export interface IdentityPattern {
  readonly source: string;
  readonly trustDomain: string;
  /** `*` = any one segment. */
  readonly env: string;
  readonly service: string;
}

/**
 * Returns an error message, or undefined if `p` is `spiffe://td/<env|*>/<service|*>`. Each part
 * is checked by the SPIFFE ID rules themselves (spiffeId), and the message names the part at
 * fault, never its text.
 */
export function identityPatternError(p: unknown): string | undefined {
  const m = typeof p === "string" ? /^spiffe:\/\/([^/]+)\/([^/]+)\/([^/]+)$/.exec(p) : null;
  if (!m) return "not a spiffe://<trust-domain>/<env>/<service> pattern (env and service may be *)";
  const [, trustDomain, env, service] = m;
  if (!validSpiffe({ trustDomain, env: "x", service: "x" })) return "the trust domain must be lowercase letters, digits, . _ - (never *)";
  if (env !== "*" && !validSpiffe({ trustDomain: "x", env, service: "x" })) return "the environment must be * or 1-128 characters of A-Z a-z 0-9 . _ -";
  if (service !== "*" && !validSpiffe({ trustDomain: "x", env: "x", service })) return "the service must be * or 1-128 characters of A-Z a-z 0-9 . _ -";
  return undefined;
}

function validSpiffe(id: ServiceIdentity): boolean {
  try {
    spiffeId(id);
    return true;
  } catch {
    return false;
  }
}

export function compileIdentityPattern(p: string): IdentityPattern {
  const m = /^spiffe:\/\/([^/]+)\/([^/]+)\/([^/]+)$/.exec(p)!;
  return Object.freeze({ source: p, trustDomain: m[1], env: m[2], service: m[3] });
}

export interface Principal {
  readonly id: string;
  readonly trustDomain: string;
  readonly env: string;
  readonly service: string;
}

/** Same semantics as `identityAllowed` in src/pki/identity.ts, on a pre-parsed principal. */
export function identityMatches(pattern: IdentityPattern, who: Principal): boolean {
  return (
    pattern.trustDomain === who.trustDomain && (pattern.env === "*" || pattern.env === who.env) && (pattern.service === "*" || pattern.service === who.service)
  );
}

/** Parses a principal, or returns undefined if it is not a pipeseal SPIFFE ID. */
export function toPrincipal(id: unknown): Principal | undefined {
  if (typeof id !== "string") return undefined;
  try {
    const p = parseSpiffeId(id);
    return Object.freeze({ id, trustDomain: p.trustDomain, env: p.env, service: p.service });
  } catch {
    return undefined;
  }
}
