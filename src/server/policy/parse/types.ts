/** What a policy compiles to: the shapes decide(), delegation and proposals read. */
import type { BuiltinRole, Operation } from "../operations.js";
import type { IdentityPattern, KeyPattern } from "../patterns.js";

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
