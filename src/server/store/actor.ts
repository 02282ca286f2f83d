/**
 * Who a store call acts as, and the decision that let it: one audit record per allowed
 * operation (docs/keyservice.md "One record per operation"). The server decides a request,
 * then calls the store as an {@link Attributed} caller; every audit record the store writes
 * for that call carries the decision in its context (`@rule`, and for a delegate's request
 * `@delegate` and `@delegation`), so the decision and the operation are one event in the
 * chain. `@` cannot occur in an encryption-context key, so these never collide with one.
 * A plain principal (the service's own calls, the CLI's) records no decision.
 */
import type { AuditEvent } from "../../audit/types.js";

/** The context key of the rule that decided (the `rule` field of pipeseal.audit.v1). */
export const RULE_CONTEXT_KEY = "@rule";
/** A delegate's request: the identity the record is about is `principal`, the delegate that asked is here. */
export const DELEGATE_CONTEXT_KEY = "@delegate";
/** The `delegates` entry that let the delegate ask. */
export const DELEGATION_CONTEXT_KEY = "@delegation";

/** The decision an operation's record carries. */
export interface DecisionNote {
  /** The policy rule, or `builtin:<invariant>`, that allowed the operation. */
  readonly rule: string;
  /** The delegate (data gateway) that asked on the principal's behalf. */
  readonly delegate?: string;
  /** The `delegates` entry that let it. */
  readonly delegation?: string;
}

/** A caller the server authorized: its principal and the decision, and whether a record carried it yet. */
export class Attributed {
  readonly principal: string;
  readonly note: DecisionNote;
  #recorded = false;

  constructor(principal: string, note: DecisionNote) {
    this.principal = principal;
    this.note = note;
  }

  /** True once a store wrote a record carrying this decision (the server then writes none of its own). */
  get recorded(): boolean {
    return this.#recorded;
  }

  /** `event` with the decision in its context; marks the decision as recorded. Pure otherwise. */
  annotate<E extends Pick<AuditEvent, "context">>(event: E): E {
    this.#recorded = true;
    return { ...event, context: { ...event.context, ...noteContext(this.note) } };
  }
}

/** A store call's caller: a principal, or an authorized caller whose records carry its decision. */
export type Actor = string | Attributed;

/** The principal of `who` (what the store records as `principal`). */
export function principalOf(who: Actor): string {
  return typeof who === "string" ? who : who?.principal;
}

/** `event` as `who` records it: with its decision, if it has one. */
export function annotate(who: Actor, event: AuditEvent): AuditEvent;
export function annotate<E extends Pick<AuditEvent, "context">>(who: Actor, event: E): E;
export function annotate<E extends Pick<AuditEvent, "context">>(who: Actor, event: E): E {
  return typeof who === "string" || who === undefined || who === null ? event : who.annotate(event);
}

/** The context entries a decision adds to a record. */
export function noteContext(note: DecisionNote): Record<string, string> {
  return {
    [RULE_CONTEXT_KEY]: note.rule.slice(0, 128),
    ...(typeof note.delegate === "string" && note.delegate !== "" ? { [DELEGATE_CONTEXT_KEY]: note.delegate.slice(0, 1024) } : {}),
    ...(typeof note.delegation === "string" && note.delegation !== "" ? { [DELEGATION_CONTEXT_KEY]: note.delegation.slice(0, 128) } : {}),
  };
}
