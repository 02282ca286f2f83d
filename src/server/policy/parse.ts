/**
 * Policy YAML → a frozen, compiled {@link Policy}. The file is read by the shared strict reader
 * against {@link POLICY_SCHEMA} (unknown keys, types, names, operations, condition forms); each
 * section's reader in ./parse/ then checks what needs more than one value: references to roles
 * and groups, custom roles within their base, role rules within their role, `keys` for keyed
 * operations, unique ids, identity and key patterns. Every refusal is a {@link PolicyError}
 * naming the line and column (docs/policy.md), and none repeats a value from the file.
 */
import { UsageError } from "../../errors.js";
import { yamlReader } from "../../io/yaml-schema.js";
import { readBindings } from "./parse/bindings.js";
import { readDelegates } from "./parse/delegates.js";
import { readGroups } from "./parse/groups.js";
import { Ids } from "./parse/references.js";
import { readRoles } from "./parse/roles.js";
import { readRules } from "./parse/rules.js";
import type { Policy } from "./parse/types.js";
import { items } from "./parse/values.js";
import { type PolicyFile, POLICY_SCHEMA } from "./schema.js";

export type { Binding, Conditions, Delegation, Policy, RoleDef, Rule, Weekday } from "./parse/types.js";
export { WEEKDAYS } from "./parse/types.js";

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

export const DEFAULT_ENVIRONMENTS: readonly string[] = Object.freeze(["dev", "test", "staging", "prod"]);

/** The file name in every message: a policy may come from a file, the store or a proposal. */
const FILE = "policy";
const read = yamlReader<PolicyFile>(POLICY_SCHEMA, (message, at) => {
  const prefix = `${FILE}:${at.line}:${at.col}: `;
  return new PolicyError(at.line, at.col, message.startsWith(prefix) ? message.slice(prefix.length) : message);
});

/** Parses and validates policy YAML. @throws PolicyError (UsageError INVALID_ARGUMENT) with line and column. */
export function parsePolicy(text: string): Policy {
  const doc = read(text, FILE);
  const groups = readGroups(doc);
  const roles = readRoles(doc);
  const ids = new Ids(doc);
  const bindings = readBindings(doc, roles, groups);
  const rules = readRules(doc, roles, groups, ids);
  const delegates = readDelegates(doc, groups, ids);
  const environments = doc.data.environments === undefined ? DEFAULT_ENVIRONMENTS : items([], doc.data.environments).map((e) => e.value);
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
