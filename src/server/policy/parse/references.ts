/**
 * References from one section to another (a binding's role, a rule's group) and the ids rules
 * and delegations share. Messages list the names the policy defines (they are mapping keys)
 * instead of repeating the unknown value: a wrong file given as a policy could be a secrets file.
 */
import type { YamlPath } from "../../../io/yaml-schema.js";
import type { IdentityPattern } from "../patterns.js";
import type { RoleDef } from "./types.js";
import type { PolicyDocument } from "./values.js";

export type Roles = ReadonlyMap<string, RoleDef>;
export type Groups = ReadonlyMap<string, readonly IdentityPattern[]>;

function known(what: string, names: Iterable<string>): string {
  const list = [...names];
  return list.length === 0 ? `no ${what} are defined` : `${what}: ${list.join(", ")}`;
}

export function roleRef(doc: PolicyDocument, path: YamlPath, name: string, roles: Roles): string {
  if (!roles.has(name)) doc.fail(path, `unknown role (${known("roles", roles.keys())})`);
  return name;
}

export function groupRef(doc: PolicyDocument, path: YamlPath, name: string, groups: Groups): string {
  if (!groups.has(name)) doc.fail(path, `unknown group (${known("groups", groups.keys())})`);
  return name;
}

/** Rule and delegation ids, with the line each was first given on. */
export class Ids {
  readonly #lines = new Map<string, number>();
  readonly #doc: PolicyDocument;
  constructor(doc: PolicyDocument) {
    this.#doc = doc;
  }

  /** Takes `id` for the entry at `path`, or fails at its `id` naming where it was taken. */
  claim(path: YamlPath, id: string, what: string): void {
    const first = this.#lines.get(id);
    if (first !== undefined) this.#doc.fail([...path, "id"], `duplicate ${what} (first used on line ${first})`);
    this.#lines.set(id, this.#doc.at(path).line);
  }
}
