/** `groups`: a name for a list of identity patterns, for bindings, rules and delegations to use. */
import type { IdentityPattern } from "../patterns.js";
import type { Groups } from "./references.js";
import { identityPatterns, type PolicyDocument } from "./values.js";

export function readGroups(doc: PolicyDocument): Groups {
  const groups = new Map<string, readonly IdentityPattern[]>();
  for (const [name, patterns] of Object.entries(doc.data.groups ?? {})) {
    groups.set(name, Object.freeze(identityPatterns(doc, ["groups", name], patterns)));
  }
  return groups;
}
