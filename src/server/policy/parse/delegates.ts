/**
 * `delegates`: services (the data gateway) that may act for other identities. Only the
 * operations in DELEGABLE_OPERATIONS can be delegated; `delegate` and `for` are a group name or
 * identity patterns.
 */
import type { YamlPath } from "../../../io/yaml-schema.js";
import { DELEGABLE_OPERATIONS, type Operation } from "../operations.js";
import type { IdentityPattern } from "../patterns.js";
import type { StrList } from "../schema.js";
import { groupRef, type Groups, type Ids } from "./references.js";
import type { Delegation } from "./types.js";
import { identityPatterns, keyPatterns, operationsOf, type PolicyDocument } from "./values.js";

export function readDelegates(doc: PolicyDocument, groups: Groups, ids: Ids): Delegation[] {
  return (doc.data.delegates ?? []).map((d, i) => {
    const path = ["delegates", i];
    ids.claim(path, d.id, "id (rules and delegations share ids)");
    const operations: Operation[] = d.operations === undefined ? ["unwrap"] : operationsOf(d.operations);
    const bad = operations.filter((o) => !DELEGABLE_OPERATIONS.has(o));
    if (bad.length > 0) doc.fail([...path, "operations"], `${bad.join(", ")} cannot be delegated (only ${[...DELEGABLE_OPERATIONS].join(", ")})`);
    const keys = d.keys === undefined ? undefined : keyPatterns(doc, [...path, "keys"], d.keys);
    return Object.freeze({
      id: d.id,
      delegate: Object.freeze(who(doc, [...path, "delegate"], d.delegate, groups)),
      for: Object.freeze(who(doc, [...path, "for"], d.for, groups)),
      operations: new Set(operations),
      ...(keys ? { keys: Object.freeze(keys) } : {}),
      line: doc.at(path).line,
    });
  });
}

/** A group name (one string that is not a SPIFFE ID), or identity patterns. */
function who(doc: PolicyDocument, path: YamlPath, v: StrList, groups: Groups): IdentityPattern[] {
  if (typeof v === "string" && !v.startsWith("spiffe://")) return [...(groups.get(groupRef(doc, path, v, groups)) ?? [])];
  return identityPatterns(doc, path, v);
}
