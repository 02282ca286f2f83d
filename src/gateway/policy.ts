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
 * The reader is strict (unknown keys, wrong types) and names `file:line:column`.
 */
import { readFileSync } from "node:fs";
import { LineCounter, isMap, isScalar, isSeq, parseDocument, type Node } from "yaml";
import { UsageError } from "../errors.js";
import type { EncryptionContext } from "../keys/keyring.js";
import { type IdentityPattern, compileIdentityPattern, identityMatches } from "./identity-pattern.js";
import { type PathGlob, compilePathGlob, mayMatchUnder } from "./path-glob.js";

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

/** Parses gateway.yaml text. @throws UsageError(INVALID_ARGUMENT) `name:line:col: …` */
export function parseGatewayPolicy(text: string, name = "gateway.yaml"): GatewayPolicy {
  const lines = new LineCounter();
  const doc = parseDocument(text, { lineCounter: lines, uniqueKeys: true });
  const fail = (node: Node | null | undefined, msg: string): never => {
    const pos = lines.linePos(node?.range?.[0] ?? 0);
    throw new UsageError("INVALID_ARGUMENT", `${name}:${pos.line}:${pos.col}: ${msg}`);
  };
  if (doc.errors.length) {
    const e = doc.errors[0];
    const pos = lines.linePos(e.pos[0]);
    throw new UsageError("INVALID_ARGUMENT", `${name}:${pos.line}:${pos.col}: ${e.message.split("\n")[0]}`);
  }
  const root = doc.contents;
  if (!isMap(root)) return fail(root, "expected a mapping with `rules:`");
  let rulesNode: Node | undefined;
  for (const pair of root.items) {
    const key = isScalar(pair.key) ? String(pair.key.value) : "";
    if (key !== "rules") fail(pair.key, `unknown key "${key}" (expected rules)`);
    rulesNode = pair.value as Node;
  }
  if (!isSeq(rulesNode)) return fail(rulesNode ?? root, "`rules` must be a list");
  const strings = (node: unknown, what: string): { value: string; node: Node }[] => {
    const items = isSeq(node) ? node.items : [node];
    if (items.length === 0) fail(node as Node, `${what} must not be empty`);
    return items.map((n) => {
      if (!isScalar(n) || typeof n.value !== "string" || n.value === "") fail(n as Node, `${what} must be non-empty strings`);
      return { value: (n as { value: string }).value, node: n as Node };
    });
  };
  const compile = <T>(node: Node, make: () => T): T => {
    try {
      return make();
    } catch (e) {
      return fail(node, (e as Error).message);
    }
  };
  const rules = rulesNode.items.map((item): GatewayRule => {
    if (!isMap(item)) return fail(item as Node, "each rule is a mapping with identities, paths and optional context");
    let identities: IdentityPattern[] | undefined;
    let paths: PathGlob[] | undefined;
    const context: Record<string, readonly string[]> = {};
    for (const pair of item.items) {
      const key = isScalar(pair.key) ? String(pair.key.value) : "";
      const value = pair.value as Node;
      if (key === "identities") identities = strings(value, "identities").map((s) => compile(s.node, () => compileIdentityPattern(s.value)));
      else if (key === "paths") paths = strings(value, "paths").map((s) => compile(s.node, () => compilePathGlob(s.value)));
      else if (key === "context") {
        if (!isMap(value)) fail(value ?? item, "context must map keys to a value or a list of values");
        for (const c of (value as unknown as { items: { key: Node; value: Node }[] }).items) {
          const k = isScalar(c.key) ? String(c.key.value) : "";
          if (!/^[A-Za-z0-9_.:-]{1,64}$/.test(k)) fail(c.key, `context key "${k.slice(0, 40)}" is not valid`);
          context[k] = strings(c.value, `context.${k}`).map((s) => s.value);
        }
      } else if (key !== "description") fail(pair.key as Node, `unknown key "${key}" (expected identities, paths, context, description)`);
    }
    if (!identities) fail(item, "a rule needs identities");
    if (!paths) fail(item, "a rule needs paths");
    return Object.freeze({ identities: identities!, paths: paths!, context: Object.freeze(context), line: lines.linePos(item.range?.[0] ?? 0).line });
  });
  return Object.freeze({ rules: Object.freeze(rules) });
}
