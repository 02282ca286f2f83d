/**
 * What every field action module provides, and what it may ask of the record it works on.
 * The protector (protector.ts) plans a record and owns its anchors (record id, subject ids)
 * and its writes; an action only turns one value into another, so each action's apply,
 * reveal and rewrap sit together in its own module and the protector dispatches to them.
 */
import type { FieldGcm } from "../gcm.js";
import type { FieldKeys } from "../keys.js";
import type { FieldMatch } from "../path.js";
import type { FieldRule } from "../policy.js";

/** Where a value sits, for error messages. */
export type Where = { row: number; field: string };

/** The record an action is applied to: its keys and its plaintext anchors. */
export interface ApplyScope {
  readonly keys: FieldKeys;
  readonly gcm: FieldGcm;
  /** The policy's subject namespace. */
  readonly namespace: string;
  /** The record's plaintext id, bound into encrypt's AAD. */
  recordId(): string;
  /** The record's clear subject id for a rule with `subject:`. */
  subjectId(rule: FieldRule): string;
}

/** The record being revealed or rewrapped; its anchors are revealed before its other fields. */
export interface ReverseScope extends ApplyScope {
  readonly rewrap: boolean;
  /** Whether `path` is an anchor (the record id or a subject field). */
  isAnchor(path: string): boolean;
  /** Records the clear value of a field, so that the fields after an anchor read it in clear. */
  revealed(path: string, clear: unknown): void;
}

/** What reveal or rewrap does with one value: write a new one, erase it (its subject was erased), or leave it. */
export type Reversed = { readonly write: unknown } | "erased" | "unchanged";

/** An action's operations, plain functions (no `this`), so the protector may take one off its module. */
export interface ActionModule {
  /** The protected form of a clear, non-empty scalar. @throws FieldError */
  readonly apply: (scope: ApplyScope, rule: FieldRule, match: FieldMatch, value: unknown, where: Where) => unknown;
  /** Reveal or rewrap of a protected value; absent for an irreversible action. @throws FieldError */
  readonly reverse?: (scope: ReverseScope, rule: FieldRule, match: FieldMatch, value: unknown, where: Where) => Promise<Reversed>;
}
