/** `bindings`: who holds which role, by group or by identity pattern. */
import { groupRef, type Groups, roleRef, type Roles } from "./references.js";
import type { Binding } from "./types.js";
import { identityPatterns, type PolicyDocument } from "./values.js";

export function readBindings(doc: PolicyDocument, roles: Roles, groups: Groups): Binding[] {
  return (doc.data.bindings ?? []).map((b, i) => {
    const path = ["bindings", i];
    if ((b.group === undefined) === (b.identity === undefined)) doc.fail(path, "a binding names exactly one of `group` or `identity`");
    const role = roleRef(doc, [...path, "role"], b.role, roles);
    const line = doc.at(path).line;
    return Object.freeze(
      b.group !== undefined
        ? { role, group: groupRef(doc, [...path, "group"], b.group, groups), line }
        : { role, identity: identityPatterns(doc, [...path, "identity"], b.identity!)[0], line },
    );
  });
}
