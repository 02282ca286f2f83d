/**
 * Policy YAML → a frozen, compiled {@link Policy}. Strict: unknown keys, unknown roles,
 * groups or operations, custom roles wider than their base role, and malformed patterns
 * are refused with a {@link PolicyError} naming the line and column (docs/policy.md).
 */
import { LineCounter, isMap, isScalar, isSeq, parseDocument, type Node, type YAMLMap } from "yaml";
import { UsageError } from "../../errors.js";
import { yamlErrorPosition, yamlMessage } from "../../io/yaml.js";
import {
  BUILTIN_ROLE_OPERATIONS,
  type BuiltinRole,
  DELEGABLE_OPERATIONS,
  isBuiltinRole,
  isOperation,
  type Operation,
  OPERATIONS,
  UNKEYED_OPERATIONS,
} from "./operations.js";
import { compileIdentityPattern, compileKeyPattern, identityPatternError, type IdentityPattern, keyPatternError, type KeyPattern } from "./patterns.js";

/** A policy error: `UsageError("INVALID_ARGUMENT")` with the 1-based line and column. */
export class PolicyError extends UsageError {
  readonly line: number;
  readonly column: number;
  constructor(line: number, column: number, message: string) {
    super("INVALID_ARGUMENT", `policy:${line}:${column}: ${message}`);
    this.line = line;
    this.column = column;
  }
}

export interface RoleDef {
  readonly name: string;
  /** The built-in role this role derives from (itself for a built-in). */
  readonly base: BuiltinRole;
  readonly operations: ReadonlySet<Operation>;
  readonly builtin: boolean;
}

export interface Binding {
  readonly role: string;
  /** Exactly one of these. */
  readonly group?: string;
  readonly identity?: IdentityPattern;
  readonly line: number;
}

export type Weekday = "sun" | "mon" | "tue" | "wed" | "thu" | "fri" | "sat";
export const WEEKDAYS: readonly Weekday[] = ["sun", "mon", "tue", "wed", "thu", "fri", "sat"];

export interface Conditions {
  /** Principal's environment (SPIFFE env segment) must be one of these. */
  readonly env?: readonly string[];
  /** Each named encryption-context entry must be present and one of the listed values. */
  readonly context?: Readonly<Record<string, readonly string[]>>;
  /** UTC hours: from <= hour < to; wraps past midnight when from > to. */
  readonly hours?: { readonly from: number; readonly to: number };
  /** UTC days of the week. */
  readonly days?: readonly Weekday[];
  /** Inclusive bounds, epoch milliseconds. */
  readonly notBefore?: number;
  readonly notAfter?: number;
}

export interface Rule {
  readonly id: string;
  /** Exactly one subject. */
  readonly role?: string;
  readonly group?: string;
  readonly identity?: IdentityPattern;
  readonly operations: ReadonlySet<Operation>;
  /** Undefined only for a rule made of unkeyed operations: then it matches any key name or none. */
  readonly keys?: readonly KeyPattern[];
  readonly when: Conditions;
  readonly line: number;
}

/**
 * `delegates`: a service (the data gateway) that may act for other identities. The delegate
 * may do `operations` (unwrap only) on behalf of the identities `for` matches, on `keys` when
 * given; the identity it acts for must itself be allowed the request by the rules.
 */
export interface Delegation {
  readonly id: string;
  readonly delegate: readonly IdentityPattern[];
  readonly for: readonly IdentityPattern[];
  readonly operations: ReadonlySet<Operation>;
  readonly keys?: readonly KeyPattern[];
  readonly line: number;
}

export interface Policy {
  readonly version: 1;
  /** Names that, as the first segment of a key name, make it that environment's key. */
  readonly environments: readonly string[];
  readonly groups: ReadonlyMap<string, readonly IdentityPattern[]>;
  /** Built-in and custom roles. */
  readonly roles: ReadonlyMap<string, RoleDef>;
  readonly bindings: readonly Binding[];
  readonly rules: readonly Rule[];
  /** Who may act for whom (empty: nobody). */
  readonly delegates: readonly Delegation[];
  /** The YAML it was parsed from (to store, to show, to propose). */
  readonly text: string;
}

export const DEFAULT_ENVIRONMENTS: readonly string[] = Object.freeze(["dev", "test", "staging", "prod"]);

const TOP = ["version", "environments", "groups", "roles", "bindings", "rules", "delegates"];
const DELEGATE_KEYS = ["id", "delegate", "for", "operations", "keys", "description"];
const ROLE_KEYS = ["base", "operations", "description"];
const BINDING_KEYS = ["group", "identity", "role"];
const RULE_KEYS = ["id", "role", "group", "identity", "operations", "keys", "when", "description"];
const WHEN_KEYS = ["env", "context", "hours", "days", "notBefore", "notAfter"];
const NAME = /^[a-z0-9][a-z0-9_.-]{0,63}$/;
const ENV = /^[A-Za-z0-9._-]{1,128}$/;
const CONTEXT_KEY = /^[A-Za-z0-9_.:-]{1,128}$/;
const TIMESTAMP = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d{1,3})?)?(Z|[+-]\d{2}:\d{2})$/;

/** Parses and validates policy YAML. @throws PolicyError (UsageError INVALID_ARGUMENT) with line and column. */
export function parsePolicy(text: string): Policy {
  if (typeof text !== "string") throw new PolicyError(1, 1, "the policy must be YAML text");
  const lc = new LineCounter();
  const doc = parseDocument(text, { lineCounter: lc, prettyErrors: false, uniqueKeys: true });
  const posOf = (node: unknown): { line: number; col: number } => {
    const r = (node as Node | undefined)?.range;
    return r ? lc.linePos(r[0]) : { line: 1, col: 1 };
  };
  const fail = (node: unknown, msg: string): never => {
    const { line, col } = posOf(node);
    throw new PolicyError(line, col, msg);
  };
  if (doc.errors.length > 0) {
    const e = doc.errors[0];
    const pos = yamlErrorPosition(e, lc);
    throw new PolicyError(pos.line, pos.col, `YAML: ${yamlMessage(e)}`);
  }
  const root = doc.contents;
  if (!isMap(root)) return fail(root, "a policy is a mapping with `version: 1` and `rules`");

  const keysOf = (map: YAMLMap, allowed: readonly string[], what: string): void => {
    for (const item of map.items) {
      const k = isScalar(item.key) ? item.key.value : undefined;
      if (typeof k !== "string" || !allowed.includes(k)) fail(item.key, `unknown ${what} key "${String(k).slice(0, 40)}" (allowed: ${allowed.join(", ")})`);
    }
  };
  const get = (map: YAMLMap, key: string) => map.get(key, true) as Node | undefined;
  const plain = (n: Node | undefined): unknown => (n === undefined ? undefined : (n as { toJSON(): unknown }).toJSON());
  const str = (n: Node | undefined, what: string, re?: RegExp): string => {
    const v = isScalar(n) ? n.value : undefined;
    if (typeof v !== "string" || (re && !re.test(v))) return fail(n, `${what} must be a string${re ? ` matching ${re.source}` : ""}`);
    return v;
  };
  const strList = (n: Node | undefined, what: string, check: (v: Node) => string): string[] => {
    if (isScalar(n) && typeof n.value === "string") return [check(n)];
    if (!isSeq(n) || n.items.length === 0) return fail(n, `${what} must be a non-empty list`);
    return n.items.map((item) => check(item as Node));
  };

  keysOf(root, TOP, "top-level");
  const versionNode = get(root, "version");
  if (plain(versionNode) !== 1) fail(versionNode ?? root, "`version: 1` is required");

  // environments
  const envNode = get(root, "environments");
  const environments = envNode === undefined ? DEFAULT_ENVIRONMENTS : strList(envNode, "environments", (n) => str(n, "an environment", ENV));

  // groups
  const groups = new Map<string, readonly IdentityPattern[]>();
  const groupsNode = get(root, "groups");
  if (groupsNode !== undefined) {
    if (!isMap(groupsNode)) fail(groupsNode, "`groups` maps a group name to a list of identity patterns");
    for (const item of (groupsNode as YAMLMap).items) {
      const name = str(item.key as Node, "a group name", NAME);
      const patterns = strList(item.value as Node, `group ${name}`, (n) => {
        const v = isScalar(n) ? n.value : undefined;
        const err = identityPatternError(v);
        if (err) fail(n, err);
        return v as string;
      });
      groups.set(name, Object.freeze(patterns.map(compileIdentityPattern)));
    }
  }

  // roles
  const roles = new Map<string, RoleDef>();
  for (const [name, ops] of Object.entries(BUILTIN_ROLE_OPERATIONS)) {
    roles.set(name, Object.freeze({ name, base: name as BuiltinRole, operations: new Set(ops), builtin: true }));
  }
  const opList = (n: Node | undefined, what: string): Operation[] => {
    if (isScalar(n) && n.value === "*") return [...OPERATIONS];
    return strList(n, what, (item) => {
      const v = isScalar(item) ? item.value : undefined;
      if (!isOperation(v)) fail(item, `unknown operation "${String(v).slice(0, 40)}" (operations: ${OPERATIONS.join(", ")})`);
      return v as string;
    }) as Operation[];
  };
  const rolesNode = get(root, "roles");
  if (rolesNode !== undefined) {
    if (!isMap(rolesNode)) fail(rolesNode, "`roles` maps a custom role name to { base, operations }");
    for (const item of (rolesNode as YAMLMap).items) {
      const name = str(item.key as Node, "a role name", NAME);
      if (isBuiltinRole(name)) fail(item.key, `"${name}" is a built-in role and cannot be redefined`);
      const def = item.value as Node;
      if (!isMap(def)) fail(def ?? item.key, `role ${name} must be a mapping with base and operations`);
      const m = def as YAMLMap;
      keysOf(m, ROLE_KEYS, "role");
      const baseNode = get(m, "base");
      const base = isScalar(baseNode) ? baseNode.value : undefined;
      if (!isBuiltinRole(base)) fail(baseNode ?? m, `role ${name} needs \`base:\` one of the built-in roles (key-admin, policy-admin, workload, auditor)`);
      const opsNode = get(m, "operations");
      const ops = opList(opsNode ?? m, `role ${name} operations`);
      const allowed = BUILTIN_ROLE_OPERATIONS[base as BuiltinRole];
      const extra = ops.filter((o) => !allowed.includes(o));
      if (extra.length > 0)
        fail(opsNode, `role ${name} (base ${String(base)}) cannot have ${extra.join(", ")}: a custom role is limited to its base role's operations`);
      roles.set(name, Object.freeze({ name, base: base as BuiltinRole, operations: new Set(ops), builtin: false }));
    }
  }
  const roleRef = (n: Node | undefined, owner: Node): string => {
    const v = str(n ?? owner, "role");
    if (!roles.has(v)) fail(n, `unknown role "${v.slice(0, 40)}"`);
    return v;
  };
  const groupRef = (n: Node): string => {
    const v = str(n, "group");
    if (!groups.has(v)) fail(n, `unknown group "${v.slice(0, 40)}"`);
    return v;
  };
  const identityRef = (n: Node): IdentityPattern => {
    const v = isScalar(n) ? n.value : undefined;
    const err = identityPatternError(v);
    if (err) fail(n, err);
    return compileIdentityPattern(v as string);
  };

  // bindings
  const bindings: Binding[] = [];
  const bindingsNode = get(root, "bindings");
  if (bindingsNode !== undefined) {
    if (!isSeq(bindingsNode)) fail(bindingsNode, "`bindings` is a list of { group | identity, role }");
    for (const b of (bindingsNode as { items: unknown[] }).items) {
      if (!isMap(b)) fail(b, "a binding is a mapping { group | identity, role }");
      const m = b as YAMLMap;
      keysOf(m, BINDING_KEYS, "binding");
      const g = get(m, "group");
      const i = get(m, "identity");
      if ((g === undefined) === (i === undefined)) fail(m, "a binding names exactly one of `group` or `identity`");
      const role = roleRef(get(m, "role"), m);
      const line = posOf(m).line;
      bindings.push(Object.freeze(g !== undefined ? { role, group: groupRef(g), line } : { role, identity: identityRef(i!), line }));
    }
  }

  // rules
  const rules: Rule[] = [];
  const ids = new Set<string>();
  const rulesNode = get(root, "rules");
  if (rulesNode !== undefined) {
    if (!isSeq(rulesNode)) fail(rulesNode, "`rules` is a list of rules");
    for (const r of (rulesNode as { items: unknown[] }).items) {
      if (!isMap(r)) fail(r, "a rule is a mapping with id, a subject (role, group or identity), operations and keys");
      const m = r as YAMLMap;
      keysOf(m, RULE_KEYS, "rule");
      const idNode = get(m, "id");
      const id = str(idNode ?? m, "rule id", NAME);
      if (ids.has(id)) fail(idNode, `duplicate rule id "${id}"`);
      ids.add(id);
      const subjects = ["role", "group", "identity"].filter((k) => get(m, k) !== undefined);
      if (subjects.length !== 1) fail(m, `rule ${id} names exactly one subject: role, group or identity`);
      const subject: { role?: string; group?: string; identity?: IdentityPattern } =
        subjects[0] === "role"
          ? { role: roleRef(get(m, "role"), m) }
          : subjects[0] === "group"
            ? { group: groupRef(get(m, "group")!) }
            : { identity: identityRef(get(m, "identity")!) };
      const opsNode = get(m, "operations");
      if (opsNode === undefined) fail(m, `rule ${id} needs \`operations\``);
      let operations = new Set(opList(opsNode, `rule ${id} operations`));
      if (subject.role !== undefined) {
        // a role's rule can only ever grant that role's operations: "*" means all of them, a listed one outside it is a mistake
        const ceiling = roles.get(subject.role)!.operations;
        if (isScalar(opsNode) && opsNode.value === "*") operations = new Set([...ceiling]);
        const outside = [...operations].filter((o) => !ceiling.has(o));
        if (outside.length > 0) fail(opsNode, `rule ${id}: role ${subject.role} can never have ${outside.join(", ")}`);
      }
      const keysNode = get(m, "keys");
      let keys: KeyPattern[] | undefined;
      if (keysNode === undefined) {
        const keyed = [...operations].filter((o) => !UNKEYED_OPERATIONS.has(o));
        if (keyed.length > 0) fail(m, `rule ${id} needs \`keys\` (patterns such as datasets/* or prod/**) for ${keyed.join(", ")}`);
      } else {
        keys = strList(keysNode, `rule ${id} keys`, (n) => {
          const v = isScalar(n) ? n.value : undefined;
          const err = keyPatternError(v);
          if (err) fail(n, err);
          return v as string;
        }).map(compileKeyPattern);
      }
      const whenNode = get(m, "when");
      const when: Record<string, unknown> = {};
      if (whenNode !== undefined) {
        if (!isMap(whenNode)) fail(whenNode, "`when` is a mapping of conditions (env, context, hours, days, notBefore, notAfter)");
        const w = whenNode as YAMLMap;
        keysOf(w, WHEN_KEYS, "condition");
        const e = get(w, "env");
        if (e !== undefined) when.env = Object.freeze(strList(e, "when.env", (n) => str(n, "an environment", ENV)));
        const c = get(w, "context");
        if (c !== undefined) {
          if (!isMap(c) || c.items.length === 0) fail(c, "when.context maps context keys to lists of allowed values");
          const ctx = Object.create(null) as Record<string, readonly string[]>;
          for (const item of (c as YAMLMap).items) {
            const k = str(item.key as Node, "a context key", CONTEXT_KEY);
            ctx[k] = Object.freeze(
              strList(item.value as Node, `when.context.${k}`, (n) => {
                const v = isScalar(n) ? n.value : undefined;
                if (typeof v !== "string" && typeof v !== "number") fail(n, "a context value must be a string");
                return String(v);
              }),
            );
          }
          when.context = Object.freeze(ctx);
        }
        const h = get(w, "hours");
        if (h !== undefined) {
          if (!isMap(h)) fail(h, "when.hours is { from: 0-23, to: 1-24 } in UTC (from <= hour < to)");
          keysOf(h as YAMLMap, ["from", "to"], "hours");
          const from = plain(get(h as YAMLMap, "from"));
          const to = plain(get(h as YAMLMap, "to"));
          if (typeof from !== "number" || !Number.isInteger(from) || from < 0 || from > 23)
            fail(get(h as YAMLMap, "from") ?? h, "when.hours.from must be an integer 0-23");
          if (typeof to !== "number" || !Number.isInteger(to) || to < 1 || to > 24) fail(get(h as YAMLMap, "to") ?? h, "when.hours.to must be an integer 1-24");
          if (from === to) fail(h, "when.hours.from and to must differ");
          when.hours = Object.freeze({ from, to });
        }
        const d = get(w, "days");
        if (d !== undefined) {
          when.days = Object.freeze(
            strList(d, "when.days", (n) => {
              const v = isScalar(n) ? String(n.value).toLowerCase() : "";
              if (!(WEEKDAYS as readonly string[]).includes(v)) fail(n, `a day is one of ${WEEKDAYS.join(", ")}`);
              return v;
            }),
          );
        }
        for (const k of ["notBefore", "notAfter"] as const) {
          const n = get(w, k);
          if (n === undefined) continue;
          const v = isScalar(n) ? n.value : undefined;
          const t = typeof v === "string" && TIMESTAMP.test(v) ? Date.parse(v) : NaN;
          if (!Number.isFinite(t)) fail(n, `when.${k} must be an ISO 8601 timestamp with a time zone, e.g. 2025-01-31T00:00:00Z`);
          when[k] = t;
        }
        if (typeof when.notBefore === "number" && typeof when.notAfter === "number" && when.notBefore > when.notAfter)
          fail(w, "when.notBefore is after when.notAfter");
      }
      rules.push(
        Object.freeze({
          id,
          ...subject,
          operations,
          ...(keys ? { keys: Object.freeze(keys) } : {}),
          when: Object.freeze(when),
          line: posOf(m).line,
        }),
      );
    }
  }

  // delegates
  const delegates: Delegation[] = [];
  const delegatesNode = get(root, "delegates");
  if (delegatesNode !== undefined) {
    if (!isSeq(delegatesNode)) fail(delegatesNode, "`delegates` is a list of { id, delegate, for, operations, keys }");
    const patterns = (n: Node | undefined, owner: Node, what: string): IdentityPattern[] => {
      if (n === undefined) return fail(owner, `${what} is required`);
      // a group name, or identity patterns
      if (isScalar(n) && typeof n.value === "string" && !n.value.startsWith("spiffe://")) return [...(groups.get(groupRef(n)) ?? [])];
      return strList(n, what, (item) => identityRef(item).source).map(compileIdentityPattern);
    };
    for (const d of (delegatesNode as { items: unknown[] }).items) {
      if (!isMap(d)) fail(d, "a delegation is a mapping { id, delegate, for, operations, keys }");
      const m = d as YAMLMap;
      keysOf(m, DELEGATE_KEYS, "delegation");
      const idNode = get(m, "id");
      const id = str(idNode ?? m, "delegation id", NAME);
      if (ids.has(id)) fail(idNode, `duplicate id "${id}" (rules and delegations share ids)`);
      ids.add(id);
      const opsNode = get(m, "operations");
      const operations = opsNode === undefined ? ["unwrap" as Operation] : opList(opsNode, `delegation ${id} operations`);
      const bad = operations.filter((o) => !DELEGABLE_OPERATIONS.has(o));
      if (bad.length > 0) fail(opsNode, `delegation ${id}: ${bad.join(", ")} cannot be delegated (only ${[...DELEGABLE_OPERATIONS].join(", ")})`);
      const keysNode = get(m, "keys");
      const keys =
        keysNode === undefined
          ? undefined
          : strList(keysNode, `delegation ${id} keys`, (n) => {
              const v = isScalar(n) ? n.value : undefined;
              const err = keyPatternError(v);
              if (err) fail(n, err);
              return v as string;
            }).map(compileKeyPattern);
      delegates.push(
        Object.freeze({
          id,
          delegate: Object.freeze(patterns(get(m, "delegate"), m, `delegation ${id} delegate`)),
          for: Object.freeze(patterns(get(m, "for"), m, `delegation ${id} for`)),
          operations: new Set(operations),
          ...(keys ? { keys: Object.freeze(keys) } : {}),
          line: posOf(m).line,
        }),
      );
    }
  }

  return Object.freeze({
    version: 1 as const,
    environments: Object.freeze([...environments]),
    groups,
    roles,
    bindings: Object.freeze(bindings),
    rules: Object.freeze(rules),
    delegates: Object.freeze(delegates),
    text,
  });
}
