/**
 * Reading a key-service policy for the review: who may obtain plaintext under each key, and
 * whether one subject holds duties that must stay apart (docs/policy.md). Pure over the YAML.
 */
import { parsePolicy, PLAINTEXT_OPERATIONS, type Policy } from "../../server/policy/index.js";
import { keyMatches } from "../../server/policy/patterns.js";

/** A binding subject as written: `group:<name>` or the identity pattern. */
const subjectOf = (b: { group?: string; identity?: { source: string } }) => (b.group ? `group:${b.group}` : b.identity!.source);

/** Subjects (groups, identity patterns, roles) with a rule allowing a plaintext operation on `keyName`. */
export function whoCanDecrypt(policy: Policy, keyName: string): string[] {
  const out = new Set<string>();
  for (const rule of policy.rules) {
    if (![...rule.operations].some((op) => PLAINTEXT_OPERATIONS.has(op))) continue;
    if (rule.keys && !rule.keys.some((k) => keyMatches(k, keyName))) continue;
    if (rule.group) out.add(`group:${rule.group}`);
    else if (rule.identity) out.add(rule.identity.source);
    else if (rule.role) for (const b of policy.bindings) if (b.role === rule.role) out.add(subjectOf(b));
  }
  return [...out].sort();
}

/** Duties that must not meet in one subject: managing keys or policy, and using keys. */
const DUTIES: Readonly<Record<string, "admin" | "policy" | "use" | "audit">> = {
  "key-admin": "admin",
  "policy-admin": "policy",
  workload: "use",
  auditor: "audit",
};
const CONFLICTS: readonly [string, string][] = [
  ["admin", "use"],
  ["policy", "use"],
  ["admin", "policy"],
];

export interface DutyConflict {
  readonly subject: string;
  readonly duties: readonly [string, string];
  readonly roles: readonly string[];
  /** Line of the first binding involved. */
  readonly line: number;
}

/**
 * Subjects bound to roles whose built-in bases conflict. The service's invariants still refuse
 * a key admin plaintext at request time; a conflicting binding is a finding because it shows the
 * policy relies on that last line of defence, and because one compromised identity then holds both duties.
 */
export function dutyConflicts(policy: Policy): DutyConflict[] {
  const bySubject = new Map<string, { roles: Set<string>; duties: Set<string>; line: number }>();
  for (const b of policy.bindings) {
    const s = subjectOf(b);
    const role = policy.roles.get(b.role);
    const duty = role ? DUTIES[role.base] : undefined;
    const e = bySubject.get(s) ?? { roles: new Set<string>(), duties: new Set<string>(), line: b.line };
    e.roles.add(b.role);
    if (duty) e.duties.add(duty);
    bySubject.set(s, e);
  }
  const out: DutyConflict[] = [];
  for (const [subject, e] of bySubject) {
    for (const [a, b] of CONFLICTS) {
      if (e.duties.has(a) && e.duties.has(b)) out.push({ subject, duties: [a, b], roles: [...e.roles].sort(), line: e.line });
    }
  }
  return out;
}

export { parsePolicy };
