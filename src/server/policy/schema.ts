/**
 * The policy file's declaration (docs/policy.md), as JSON Schema for the shared YAML reader
 * (src/io/yaml-schema.ts). It holds everything one value can be checked against on its own:
 * keys, types, names, operations, days, hours, the timestamp form. What needs two places of the
 * file (a rule's role must be defined, a custom role within its base) is checked by the
 * section readers in ./parse/.
 */
import { BUILTIN_ROLES, OPERATIONS } from "./operations.js";

/** The data of a policy file as the schema admits it, before the section readers compile it. */
export interface PolicyFile {
  version: 1;
  environments?: StrList;
  groups?: Record<string, StrList>;
  roles?: Record<string, RoleFile>;
  bindings?: BindingFile[];
  rules?: RuleFile[];
  delegates?: DelegationFile[];
}

/** One string, or a non-empty list of them. */
export type StrList = string | string[];

export interface RoleFile {
  base: (typeof BUILTIN_ROLES)[number];
  operations: StrList;
  description?: string;
}

export interface BindingFile {
  group?: string;
  identity?: string;
  role: string;
}

export interface RuleFile {
  id: string;
  role?: string;
  group?: string;
  identity?: string;
  operations: StrList;
  keys?: StrList;
  when?: WhenFile;
  description?: string;
}

export interface WhenFile {
  env?: StrList;
  context?: Record<string, string | (string | number)[]>;
  hours?: { from: number; to: number };
  days?: StrList;
  notBefore?: string;
  notAfter?: string;
}

export interface DelegationFile {
  id: string;
  delegate: StrList;
  for: StrList;
  operations?: StrList;
  keys?: StrList;
  description?: string;
}

/** `item`, or a non-empty list of `item`s (the policy takes `keys: prod/**` as `keys: [prod/**]`). */
function oneOrList(item: object, itemType: string | string[] = "string"): object {
  return {
    if: { type: itemType },
    then: item,
    // the string case is `then`'s; naming it here makes a number read "must be a string or a list"
    else: { type: ["string", "array"], minItems: 1, items: item },
  };
}

const NAME = {
  type: "string",
  pattern: "^[a-z0-9][a-z0-9_.-]{0,63}$",
  hint: "must be 1-64 characters of a-z 0-9 _ . - starting with a letter or digit",
};
const TEXT = { type: "string" };
const ENVIRONMENT = { type: "string", pattern: "^[A-Za-z0-9._-]{1,128}$", hint: "an environment must be 1-128 characters of A-Z a-z 0-9 . _ -" };
/** Any case, as the days were always read (`Mon` is `mon`). */
const WEEKDAY_PATTERN = `^(${["sun", "mon", "tue", "wed", "thu", "fri", "sat"].map((d) => [...d].map((c) => `[${c}${c.toUpperCase()}]`).join("")).join("|")})$`;
const DAY = { type: "string", pattern: WEEKDAY_PATTERN, hint: "a day is one of sun, mon, tue, wed, thu, fri, sat" };
const TIMESTAMP = {
  type: "string",
  pattern: "^\\d{4}-\\d{2}-\\d{2}T\\d{2}:\\d{2}(:\\d{2}(\\.\\d{1,3})?)?(Z|[+-]\\d{2}:\\d{2})$",
  hint: "must be an ISO 8601 timestamp with a time zone, e.g. 2025-01-31T00:00:00Z",
};
/** `"*"` (every operation, or every one of a role rule's role), one operation, or a list of them. */
const OPERATIONS_FIELD = {
  description: 'an operation, a list of operations, or "*"',
  if: { type: "string" },
  then: { enum: [...OPERATIONS, "*"] },
  else: { type: ["string", "array"], minItems: 1, items: { enum: [...OPERATIONS] } },
};
const PATTERNS = { description: "key-name or identity patterns, compiled by the section readers", ...oneOrList(TEXT) };

const ROLE = {
  type: "object",
  additionalProperties: false,
  required: ["base", "operations"],
  properties: {
    base: { description: "the built-in role it narrows", enum: [...BUILTIN_ROLES] },
    operations: OPERATIONS_FIELD,
    description: TEXT,
  },
};

const BINDING = {
  type: "object",
  additionalProperties: false,
  required: ["role"],
  properties: { group: TEXT, identity: TEXT, role: TEXT },
};

const WHEN = {
  type: "object",
  additionalProperties: false,
  properties: {
    env: oneOrList(ENVIRONMENT),
    context: {
      type: "object",
      minProperties: 1,
      propertyNames: { type: "string", pattern: "^[A-Za-z0-9_.:-]{1,128}$", hint: "must be 1-128 characters of A-Z a-z 0-9 _ . : -" },
      additionalProperties: {
        if: { type: "string" },
        then: TEXT,
        else: { type: ["string", "array"], minItems: 1, items: { type: ["string", "number"] } },
      },
    },
    hours: {
      description: "UTC hours: from <= hour < to, wrapping midnight when from > to",
      type: "object",
      additionalProperties: false,
      required: ["from", "to"],
      properties: { from: { type: "integer", minimum: 0, maximum: 23 }, to: { type: "integer", minimum: 1, maximum: 24 } },
    },
    days: oneOrList(DAY),
    notBefore: TIMESTAMP,
    notAfter: TIMESTAMP,
  },
};

const RULE = {
  type: "object",
  additionalProperties: false,
  required: ["id", "operations"],
  properties: {
    id: NAME,
    role: TEXT,
    group: TEXT,
    identity: TEXT,
    operations: OPERATIONS_FIELD,
    keys: PATTERNS,
    when: WHEN,
    description: TEXT,
  },
};

const DELEGATION = {
  type: "object",
  additionalProperties: false,
  required: ["id", "delegate", "for"],
  properties: {
    id: NAME,
    delegate: { description: "a group name, or identity patterns", ...oneOrList(TEXT) },
    for: { description: "a group name, or identity patterns", ...oneOrList(TEXT) },
    operations: OPERATIONS_FIELD,
    keys: PATTERNS,
    description: TEXT,
  },
};

export const POLICY_SCHEMA = {
  description: "a key-service access policy (docs/policy.md)",
  type: "object",
  additionalProperties: false,
  required: ["version"],
  properties: {
    version: { const: 1 },
    environments: oneOrList(ENVIRONMENT),
    groups: { type: "object", propertyNames: NAME, additionalProperties: PATTERNS },
    roles: { type: "object", propertyNames: NAME, additionalProperties: ROLE },
    bindings: { type: "array", items: BINDING },
    rules: { type: "array", items: RULE },
    delegates: { type: "array", items: DELEGATION },
  },
} as const;
