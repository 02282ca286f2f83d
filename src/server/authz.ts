/**
 * Authorization: every request is decided by the policy engine (src/server/policy) and
 * recorded in the store's audit chain with the rule that decided it. An allowed operation is
 * ONE record, the operation's own, carrying its rule: the store call runs as an
 * {@link Attributed} caller whose records carry the decision (store/actor.ts), and an
 * operation the store does not audit (a listing, a wrap, a token) gets its record here, with
 * its rule, before its result leaves. A decision is recorded on its own (`authz.<operation>`)
 * only where no operation follows: a denial, or an allowed operation that failed before it
 * started (with its error). If a record cannot be written, the request fails with 503
 * AUDIT_WRITE_FAILED and nothing it produced is released (fail closed).
 *
 * The active policy is the newest one approved through the API; until one is, the policy
 * file of the configuration (bootstrap); with neither, everything is denied.
 */
import {
  DELEGABLE_OPERATIONS,
  DELEGATE_ONLY_OPERATIONS,
  decide,
  decideDelegateOnly,
  decideDelegateOperation,
  decideDelegated,
  decideOperation,
  parsePolicy,
  type Decision,
  type DelegatedDecision,
  type Policy,
} from "./policy/index.js";

import { ServiceError, toWireError } from "./errors.js";
import type { DecisionEvent, KeyStore } from "./store/types.js";
import { Attributed } from "./store/actor.js";
import { operationToAuditEvent } from "./store/decision.js";
import type { EncryptionContext } from "../keys/keyring.js";
import { AuditError, isPipesealError } from "../errors.js";

export interface AccessRequest {
  readonly principal: string;
  readonly operation: string;
  readonly keyName?: string;
  readonly keyVersion?: number;
  readonly context?: EncryptionContext;
  readonly objectPath?: string;
  readonly auth: "mtls" | "token";
  /** Operations a bearer token was limited to, if any. */
  readonly tokenOps?: readonly string[];
  /**
   * A delegate's request (the data gateway): the identity it acts for. The decision is then
   * {@link decideDelegated}'s: a `delegates` entry must let `principal` act for it, and it
   * must itself be allowed the request. Both are recorded.
   */
  readonly onBehalfOf?: OnBehalfOf;
}

/** The identity a delegate acts for, and how that identity proved itself to the delegate. */
export interface OnBehalfOf {
  readonly identity: string;
  /** "token": the peer's bearer token came with the request and verified (its `ops` narrow it). */
  readonly auth: "mtls" | "token";
  readonly tokenOps?: readonly string[];
}

export const NO_POLICY_RULE = "builtin:no-policy";
export const TOKEN_SCOPE_RULE = "builtin:token-scope";
const NO_POLICY: Decision = Object.freeze({ allowed: false, rule: NO_POLICY_RULE, reason: "no policy is configured or approved" });

export class Authorizer {
  readonly #store: KeyStore;
  #policy: Policy | null;
  #activeId: string | null = null;
  #loadedAt = 0;
  readonly #refreshMs: number;
  readonly #now: () => number;

  constructor(store: KeyStore, bootstrap: Policy | null, options: { refreshMs?: number; now?: () => number } = {}) {
    this.#store = store;
    this.#policy = bootstrap;
    this.#refreshMs = options.refreshMs ?? 2000;
    this.#now = options.now ?? Date.now;
  }

  /** Picks up a policy approved on any replica (at most every `refreshMs`, or now with force). */
  async refresh(force = false): Promise<void> {
    const now = this.#now();
    if (!force && now - this.#loadedAt < this.#refreshMs) return;
    this.#loadedAt = now;
    const active = await this.#store.activePolicy();
    if (active && active.id !== this.#activeId) {
      this.#policy = parsePolicy(active.yaml);
      this.#activeId = active.id;
    }
  }

  get policy(): Policy | null {
    return this.#policy;
  }

  #decideWith(req: AccessRequest, decider?: (policy: Policy) => Decision): Decision {
    if (!decider || this.#policy === null || (req.tokenOps && !req.tokenOps.includes(req.operation))) return this.decide(req);
    try {
      return decider(this.#policy);
    } catch (e) {
      if (isPipesealError(e)) throw e; // e.g. PolicyError: the request itself is malformed
      return { allowed: false, rule: "builtin:invalid-request", reason: "the request could not be decided" };
    }
  }

  /** Decides without recording (for tests and dry runs). */
  decide(req: AccessRequest): DelegatedDecision {
    const before = this.#beforePolicy(req);
    if (before !== undefined || this.#policy === null) return before ?? NO_POLICY;
    if (DELEGATE_ONLY_OPERATIONS.has(req.operation as never)) return decideDelegateOnly(this.#policy, req.principal, req.operation, req.onBehalfOf?.identity);
    const on = req.onBehalfOf;
    if (on !== undefined) {
      if (on.tokenOps && !on.tokenOps.includes(req.operation))
        return { allowed: false, rule: TOKEN_SCOPE_RULE, reason: `the bearer token of ${on.identity} does not cover ${req.operation}` };
      return decideDelegated(this.#policy, {
        delegate: req.principal,
        principal: on.identity,
        operation: req.operation,
        ...(req.keyName !== undefined ? { keyName: req.keyName } : {}),
        ...(req.context !== undefined ? { context: req.context } : {}),
        now: new Date(this.#now()),
        auth: on.auth,
      });
    }
    return decide(this.#policy, {
      principal: req.principal,
      operation: req.operation,
      ...(req.keyName !== undefined ? { keyName: req.keyName } : {}),
      ...(req.context !== undefined ? { context: req.context } : {}),
      now: new Date(this.#now()),
      auth: req.auth,
    });
  }

  /**
   * The decision before a request's body is read (see docs/keyservice.md "Decide, then
   * parse"): may this caller do `req.operation` at all, on any key, with any context? A
   * denial is recorded (with `req`'s operation and no key) and thrown as
   * ServiceError(ACCESS_DENIED); a pass records nothing, because the full decision on the
   * parsed request follows and is recorded then (one record per request either way).
   * @throws ServiceError(ACCESS_DENIED); AuditError(AUDIT_WRITE_FAILED) when a denial cannot be recorded.
   */
  async gate(req: AccessRequest): Promise<void> {
    await this.#refreshQuietly();
    const d = this.decideOperation(req);
    if (d.allowed) return;
    await this.#record(req, d);
    throw denial(req, d);
  }

  /**
   * {@link gate}'s decision, without recording. A caller a `delegates` entry names passes the
   * gate of a delegable operation even without the permission itself: whether it may act for
   * the identity its request names is decided on the parsed request.
   */
  decideOperation(req: AccessRequest): Decision {
    const before = this.#beforePolicy(req);
    if (before !== undefined || this.#policy === null) return before ?? NO_POLICY;
    if (DELEGATE_ONLY_OPERATIONS.has(req.operation as never)) return decideDelegateOperation(this.#policy, req.principal, req.operation);
    const own = decideOperation(this.#policy, { principal: req.principal, operation: req.operation, now: new Date(this.#now()), auth: req.auth });
    if (own.allowed || !DELEGABLE_OPERATIONS.has(req.operation as never)) return own;
    const asDelegate = decideDelegateOperation(this.#policy, req.principal, req.operation);
    return asDelegate.allowed ? asDelegate : own;
  }

  /** The refusals that come before any policy: a token's scope, no policy at all. */
  #beforePolicy(req: AccessRequest): Decision | undefined {
    if (req.tokenOps && !req.tokenOps.includes(req.operation))
      return { allowed: false, rule: TOKEN_SCOPE_RULE, reason: `the bearer token does not cover ${req.operation}` };
    if (this.#policy === null) return NO_POLICY;
    return undefined;
  }

  /**
   * Decides and, when allowed, runs `op` as the caller with the decision attached (an
   * {@link Attributed}): the records `op` makes in the store carry the rule, so the decision
   * and the operation are ONE record, and the unwrap path pays one durable commit per request.
   * `op` must call the store synchronously (before its first await). If the store records
   * nothing for `op` (an operation it does not audit), its record, with the rule, is written
   * here after `op` and before its value is returned. A denial is recorded alone (one record)
   * and thrown as ServiceError(ACCESS_DENIED); an `op` that fails before the store recorded it
   * is recorded as the decision with its error, and its error is thrown. If a record cannot be
   * written, what `op` produced is handed to `discard` (wipe it) and AUDIT_WRITE_FAILED is
   * thrown (fail closed).
   */
  async authorizeWith<T>(
    req: AccessRequest,
    op: (who: Attributed) => Promise<T>,
    discard: (value: T) => void = () => undefined,
    decider?: (policy: Policy) => Decision,
  ): Promise<T> {
    const [one] = await this.authorizeEach([{ req, op, ...(decider ? { decider } : {}) }], discard);
    if (one?.status !== "fulfilled") throw one.reason;
    return one.value;
  }

  /**
   * {@link authorizeWith} for the items of a batch request, as ONE group (store.together):
   * every item is decided first, then every denied item's record and every allowed item's `op`
   * are submitted together, in item order, so the whole batch commits in one transaction or
   * not at all. Resolves with one result per item, in order: a denied item is recorded and
   * settles as ServiceError(ACCESS_DENIED), a refusal of its `op` (forged entry, bad key state)
   * settles as that error, recorded by the store with the rule. If any record fails (the
   * transaction failed), every value the batch produced goes to `discard` and
   * AUDIT_WRITE_FAILED is thrown: nothing is released.
   */
  async authorizeEach<T>(items: readonly AuthorizedOp<T>[], discard: (value: T) => void): Promise<PromiseSettledResult<T>[]> {
    await this.#refreshQuietly();
    const decisions = items.map((item) => this.#decideWith(item.req, item.decider));
    const callers = items.map((item, i) => attributed(item.req, decisions[i] as DelegatedDecision));
    const submitted = this.#store.together(() =>
      items.map(({ req, op }, i) => {
        const who = callers[i];
        if (who === null) return (async () => this.#store.appendAudit(decisionEvent(req, decisions[i])))();
        return (async () => op(who))();
      }),
    );
    // every outcome gets its handler now: an op that fails while the batch is still being
    // committed must not be an unhandled rejection (that would end the process)
    const settled: PromiseSettledResult<unknown>[] = await Promise.all(submitted.map((p) => settledOf<unknown>(p)));
    const release = () => {
      for (const [i, s] of settled.entries()) if (callers[i] !== null && s.status === "fulfilled") discard(s.value as T);
    };
    // a denial that could not be recorded, or a store call whose records did not commit
    const failed = settled.find((s, i) => s.status === "rejected" && (callers[i] === null || isAuditFailure(s.reason)));
    if (failed !== undefined) {
      release();
      throw auditFailure((failed as PromiseRejectedResult).reason);
    }
    await this.#recordUnrecorded(items, decisions, callers, settled).catch((e: unknown) => {
      release();
      throw auditFailure(e);
    });
    return settled.map((s, i) => {
      if (callers[i] !== null) return s as PromiseSettledResult<T>;
      return { status: "rejected", reason: denial(items[i].req, decisions[i]) };
    });
  }

  async #record(req: AccessRequest, d: Decision): Promise<void> {
    try {
      await this.#store.appendAudit(decisionEvent(req, d));
    } catch (e) {
      throw auditFailure(e);
    }
  }

  /**
   * The records the store did not write, as one group: an allowed operation it does not audit
   * gets its own record (`operationToAuditEvent`), one that failed before the store recorded it
   * gets the decision with its error. @throws what the store throws
   */
  async #recordUnrecorded(
    items: readonly AuthorizedOp<unknown>[],
    decisions: readonly Decision[],
    callers: readonly (Attributed | null)[],
    settled: readonly PromiseSettledResult<unknown>[],
  ): Promise<void> {
    const pending = this.#store.together(() =>
      settled.flatMap((s, i) => {
        const who = callers[i];
        if (who === null || who.recorded) return [];
        const event = decisionEvent(items[i].req, decisions[i]);
        if (s.status === "fulfilled") return [this.#store.appendEvent(operationToAuditEvent(event))];
        return [this.#store.appendAudit({ ...event, errorCode: errorCodeOf(s.reason) })];
      }),
    );
    await Promise.all(pending);
  }

  async #refreshQuietly(): Promise<void> {
    try {
      await this.refresh();
    } catch {
      // keep the policy we have; the store's trouble shows in the audit write
    }
  }
}

/** The fields of a request that authorization looks at (a fastify request has them). */
export interface Caller {
  readonly principal: string;
  readonly auth: "mtls" | "token";
  readonly tokenOps?: readonly string[] | undefined;
}

/** What a request is about: the key, version, context and object it names. */
export type AccessTarget = Omit<AccessRequest, "principal" | "operation" | "auth" | "tokenOps">;

/** One item of {@link Authorizer.authorizeEach}: the request, and the store call it allows. */
export interface AuthorizedOp<T> {
  readonly req: AccessRequest;
  /** Calls the store synchronously (before its first await) as `who`, so its records join the group and carry the decision. */
  readonly op: (who: Attributed) => Promise<T>;
  /** Decides on the parsed request instead of the policy's plain rules (a proposal's, an approval's). */
  readonly decider?: (policy: Policy) => Decision;
}

export function accessRequest(caller: Caller, operation: string, target: AccessTarget = {}): AccessRequest {
  return { principal: caller.principal, operation, auth: caller.auth, ...(caller.tokenOps ? { tokenOps: caller.tokenOps } : {}), ...target };
}

/**
 * The caller an allowed request's store calls act as: the identity a delegate acted for (the
 * record is about its access), with the delegate and the delegation in the decision. null when denied.
 */
function attributed(req: AccessRequest, d: DelegatedDecision): Attributed | null {
  if (!d.allowed) return null;
  const on = req.onBehalfOf;
  return new Attributed(on?.identity ?? req.principal, {
    rule: d.rule,
    ...(on ? { delegate: req.principal } : {}),
    ...(d.delegation ? { delegation: d.delegation } : {}),
  });
}

function decisionEvent(req: AccessRequest, d: DelegatedDecision): DecisionEvent {
  return {
    ...(req.onBehalfOf ? { onBehalfOf: req.onBehalfOf.identity } : {}),
    ...(d.delegation ? { delegation: d.delegation } : {}),
    principal: req.principal,
    operation: req.operation,
    allowed: d.allowed,
    rule: d.rule,
    keyName: req.keyName ?? null,
    keyVersion: req.keyVersion ?? null,
    objectPath: req.objectPath ?? null,
    context: req.context ?? null,
    errorCode: d.allowed ? null : "ACCESS_DENIED",
  };
}

function denial(req: AccessRequest, d: Decision): ServiceError {
  return new ServiceError(
    "ACCESS_DENIED",
    `${req.operation}${req.onBehalfOf ? ` on behalf of ${req.onBehalfOf.identity}` : ""} denied (${d.rule}): ${d.reason}`,
  );
}

function settledOf<T>(p: Promise<T>): Promise<PromiseSettledResult<T>> {
  return p.then(
    (value) => ({ status: "fulfilled", value }),
    (reason: unknown) => ({ status: "rejected", reason }),
  );
}

function isAuditFailure(e: unknown): boolean {
  return isPipesealError(e) && e.code === "AUDIT_WRITE_FAILED";
}

/** The code an operation that failed before it started is recorded with: the one its caller is sent (errors.ts). */
function errorCodeOf(e: unknown): string {
  return toWireError(e).body.error.code;
}

function auditFailure(e: unknown): AuditError {
  if (isPipesealError(e) && e.code === "AUDIT_WRITE_FAILED") return e;
  return new AuditError("AUDIT_WRITE_FAILED", undefined, { cause: e });
}
