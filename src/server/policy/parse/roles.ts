/**
 * `roles`: custom roles, each a subset of one built-in role's operations. The built-in roles
 * are the ceiling of every grant, so a custom role wider than its base, or one redefining a
 * built-in, is refused here.
 */
import { BUILTIN_ROLE_OPERATIONS, type BuiltinRole, isBuiltinRole } from "../operations.js";
import type { Roles } from "./references.js";
import type { RoleDef } from "./types.js";
import { operationsOf, type PolicyDocument } from "./values.js";

export function readRoles(doc: PolicyDocument): Roles {
  const roles = new Map<string, RoleDef>();
  for (const [name, ops] of Object.entries(BUILTIN_ROLE_OPERATIONS)) {
    roles.set(name, Object.freeze({ name, base: name as BuiltinRole, operations: new Set(ops), builtin: true }));
  }
  for (const [name, role] of Object.entries(doc.data.roles ?? {})) {
    if (isBuiltinRole(name)) doc.fail(["roles", name], "a built-in role cannot be redefined", "key");
    const operations = operationsOf(role.operations);
    const allowed = BUILTIN_ROLE_OPERATIONS[role.base];
    const extra = operations.filter((o) => !allowed.includes(o));
    if (extra.length > 0)
      doc.fail(["roles", name, "operations"], `base ${role.base} cannot have ${extra.join(", ")}: a custom role is limited to its base role's operations`);
    roles.set(name, Object.freeze({ name, base: role.base, operations: new Set(operations), builtin: false }));
  }
  return roles;
}
