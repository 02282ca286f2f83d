/**
 * `rules`: allow rules, each with one subject (a role, a group or an identity pattern). A role's
 * rule grants only within that role, and keyed operations need `keys`.
 */
import { type Operation, UNKEYED_OPERATIONS } from "../operations.js";
import type { IdentityPattern } from "../patterns.js";
import type { RuleFile } from "../schema.js";
import { readConditions } from "./conditions.js";
import { groupRef, type Groups, type Ids, roleRef, type Roles } from "./references.js";
import type { Rule } from "./types.js";
import { identityPatterns, keyPatterns, operationsOf, type PolicyDocument } from "./values.js";

type Subject = { role: string } | { group: string } | { identity: IdentityPattern };

export function readRules(doc: PolicyDocument, roles: Roles, groups: Groups, ids: Ids): Rule[] {
  return (doc.data.rules ?? []).map((r, i) => {
    const path = ["rules", i];
    ids.claim(path, r.id, "rule id");
    const subject = subjectOf(doc, path, r, roles, groups);
    const operations = operationsOfRule(doc, path, r, subject, roles);
    if (r.keys === undefined) {
      const keyed = [...operations].filter((o) => !UNKEYED_OPERATIONS.has(o));
      if (keyed.length > 0) doc.fail(path, `needs \`keys\` (patterns such as datasets/* or prod/**) for ${keyed.join(", ")}`);
    }
    const keys = r.keys === undefined ? undefined : keyPatterns(doc, [...path, "keys"], r.keys);
    return Object.freeze({
      id: r.id,
      ...subject,
      operations,
      ...(keys ? { keys: Object.freeze(keys) } : {}),
      when: readConditions(doc, [...path, "when"], r.when),
      line: doc.at(path).line,
    });
  });
}

function subjectOf(doc: PolicyDocument, path: (string | number)[], r: RuleFile, roles: Roles, groups: Groups): Subject {
  const named = (["role", "group", "identity"] as const).filter((k) => r[k] !== undefined);
  if (named.length !== 1) doc.fail(path, "a rule names exactly one subject: role, group or identity");
  if (r.role !== undefined) return { role: roleRef(doc, [...path, "role"], r.role, roles) };
  if (r.group !== undefined) return { group: groupRef(doc, [...path, "group"], r.group, groups) };
  return { identity: identityPatterns(doc, [...path, "identity"], r.identity!)[0] };
}

/** A role's rule can only ever grant that role's operations: "*" means all of them, a listed one outside it is a mistake. */
function operationsOfRule(doc: PolicyDocument, path: (string | number)[], r: RuleFile, subject: Subject, roles: Roles): Set<Operation> {
  if (!("role" in subject)) return new Set(operationsOf(r.operations));
  const ceiling = roles.get(subject.role)!.operations;
  const operations = r.operations === "*" ? [...ceiling] : operationsOf(r.operations);
  const outside = operations.filter((o) => !ceiling.has(o));
  if (outside.length > 0) doc.fail([...path, "operations"], `role ${subject.role} can never have ${outside.join(", ")}`);
  return new Set(operations);
}
