/**
 * gateway.yaml: which identities may read which paths, and which encryption-context values
 * the objects must carry. Deny by default: a request is allowed only when one rule admits it.
 *
 * ```yaml
 * rules:
 *   - identities: ["spiffe://acme.ml/prod/trainer*"]
 *     paths: ["train/**"]
 *     context: { stage: training }        # each listed key must be present with one of the values
 * ```
 * Read by the strict reader against policy-schema.ts: every error names `file:line:column` and the path.
 */
import { readFileSync } from "node:fs";
import { UsageError } from "../errors.js";
import { type YamlPath, yamlReader } from "../io/yaml-schema.js";
import type { EncryptionContext } from "../keys/keyring.js";
import { type IdentityPattern, compileIdentityPattern, identityMatches } from "./identity-pattern.js";
import { type PathGlob, compilePathGlob, mayMatchUnder } from "./path-glob.js";
import { GATEWAY_POLICY_SCHEMA, type GatewayFile } from "./policy-schema.js";

export interface GatewayRule {
  readonly identities: readonly IdentityPattern[];
  readonly paths: readonly PathGlob[];
  /** Required context values: key → allowed values. */
  readonly context: Readonly<Record<string, readonly string[]>>;
  /** 1-based line of the rule in the file (0 for rules built in code). */
  readonly line: number;
}

export interface GatewayPolicy {
  readonly rules: readonly GatewayRule[];
}

export type PolicyDecision = { readonly allow: true; readonly rule: number } | { readonly allow: false; readonly reason: string };

/** The first rule that admits `identity` reading `rel` (plaintext path, no leading slash) with `context`. */
export function decide(policy: GatewayPolicy, identity: string, rel: string, context: EncryptionContext): PolicyDecision {
  let pathMatched = false;
  for (const [i, r] of policy.rules.entries()) {
    if (!r.identities.some((p) => identityMatches(p, identity)) || !r.paths.some((g) => g.matches(rel))) continue;
    pathMatched = true;
    if (Object.entries(r.context).every(([k, vs]) => context[k] !== undefined && vs.includes(context[k]))) return { allow: true, rule: i };
  }
  return { allow: false, reason: pathMatched ? "context-mismatch" : "no-rule" };
}

/** True if some rule could admit `identity` to an object under folder `dir` (listings show only those folders). */
export function mayList(policy: GatewayPolicy, identity: string, dir: string): boolean {
  return policy.rules.some((r) => r.identities.some((p) => identityMatches(p, identity)) && r.paths.some((g) => mayMatchUnder(g, dir)));
}

/** Reads and checks gateway.yaml. @throws UsageError(INVALID_ARGUMENT) `file:line:col: …` */
export function loadGatewayPolicy(file: string): GatewayPolicy {
  let text: string;
  try {
    text = readFileSync(file, "utf8");
  } catch {
    throw new UsageError("INVALID_ARGUMENT", `cannot read the gateway policy ${file}`);
  }
  return parseGatewayPolicy(text, file);
}

const IDENTITY_RULE = "must be spiffe://<trust-domain>/<env>/<service> (env and service may contain *)";
const PATH_RULE = "must be a glob relative to the root, without . or .. segments";

const readGatewayFile = yamlReader<GatewayFile>(GATEWAY_POLICY_SCHEMA, (message) => new UsageError("INVALID_ARGUMENT", message));

/** Parses gateway.yaml text. @throws UsageError(INVALID_ARGUMENT) `name:line:col: path: …` */
export function parseGatewayPolicy(text: string, name = "gateway.yaml"): GatewayPolicy {
  const doc = readGatewayFile(text, name);
  const list = (v: string | readonly string[]): readonly string[] => (typeof v === "string" ? [v] : v);
  // a pattern the schema lets through but the compiler refuses is reported at its own item, in
  // words of our own: the compiler's message quotes the pattern, and a file's values are never echoed
  const compile = <T>(path: YamlPath, make: () => T, rule: string): T => {
    try {
      return make();
    } catch {
      return doc.fail(path, rule);
    }
  };
  const itemPath = (field: string, value: string | readonly string[], i: number, at: number): YamlPath =>
    typeof value === "string" ? ["rules", i, field] : ["rules", i, field, at];
  const rules = doc.data.rules.map((r, i): GatewayRule => {
    const identities = list(r.identities).map((p, j) => compile(itemPath("identities", r.identities, i, j), () => compileIdentityPattern(p), IDENTITY_RULE));
    const paths = list(r.paths).map((p, j) => compile(itemPath("paths", r.paths, i, j), () => compilePathGlob(p), PATH_RULE));
    const context = Object.fromEntries(Object.entries(r.context ?? {}).map(([k, v]) => [k, Object.freeze([...list(v)])]));
    return Object.freeze({ identities, paths, context: Object.freeze(context), line: doc.at(["rules", i]).line });
  });
  return Object.freeze({ rules: Object.freeze(rules) });
}
