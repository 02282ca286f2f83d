/**
 * Authorization: every request is decided by the policy engine (src/server/policy), the
 * decision, allowed or denied, is recorded in the store's audit chain with the rule that
 * decided it, and only then is the request carried out or refused. If the record cannot be
 * written, the request fails with 503 AUDIT_WRITE_FAILED (fail closed).
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

import { ServiceError } from "./errors.js";
import type { DecisionEvent, KeyStore } from "./store/types.js";
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
      if (on.tokenOps && !on.tokenOps.includes(req.operation)) return { allowed: false, rule: TOKEN_SCOPE_RULE, reason: `the bearer token of ${on.identity} does not cover ${req.operation}` };
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
    if (req.tokenOps && !req.tokenOps.includes(req.operation)) return { allowed: false, rule: TOKEN_SCOPE_RULE, reason: `the bearer token does not cover ${req.operation}` };
    if (this.#policy === null) return NO_POLICY;
    return undefined;
  }

  /**
   * Decides, records the decision durably, and throws ServiceError(ACCESS_DENIED) when denied.
   * @throws AuditError(AUDIT_WRITE_FAILED) when the decision cannot be recorded (fail closed).
   */
  async authorize(req: AccessRequest, decider?: (policy: Policy) => Decision): Promise<Decision> {
    const d = await this.#decideNow(req, decider);
    await this.#record(req, d);
    if (!d.allowed) throw denial(req, d);
    return d;
  }

  /**
   * Decides and, when allowed, runs `op` so that the decision record and the records `op`
   * makes in the store commit in ONE transaction (store.together): the unwrap path pays one
   * durable commit per request, and the decision and the unwrap are recorded both or neither.
   * `op` must call the store synchronously (before its first await). A denial is recorded
   * alone (one record) and thrown as ServiceError(ACCESS_DENIED). If the decision cannot be
   * recorded, what `op` produced is handed to `discard` (wipe it) and AUDIT_WRITE_FAILED is
   * thrown (fail closed).
   */
  async authorizeWith<T>(req: AccessRequest, op: () => Promise<T>, discard: (value: T) => void): Promise<T> {
    const [one] = await this.authorizeEach([{ req, op }], discard);
    if (one?.status !== "fulfilled") throw (one as PromiseRejectedResult).reason;
    return one.value;
  }

  /**
   * {@link authorizeWith} for the items of a batch request, as ONE group (store.together):
   * every item is decided first, then every decision record and every allowed item's `op`
   * are submitted together, in item order, so the whole batch commits in one transaction or
   * not at all. Resolves with one result per item, in order: a denied item is recorded and
   * settles as ServiceError(ACCESS_DENIED), a refusal of its `op` (forged entry, bad key state)
   * settles as that error. If any decision record fails (the transaction failed), every value
   * the batch produced goes to `discard` and AUDIT_WRITE_FAILED is thrown: nothing is released.
   */
  async authorizeEach<T>(items: readonly AuthorizedOp<T>[], discard: (value: T) => void): Promise<PromiseSettledResult<T>[]> {
    await this.#refreshQuietly();
    const decisions = items.map((item) => this.#decideWith(item.req));
    const submitted = this.#store.together(() =>
      items.map(({ req, op }, i) => {
        const d = decisions[i] as Decision;
        const recorded = (async () => this.#store.appendAudit(decisionEvent(req, d)))();
        return { recorded, done: d.allowed ? (async () => op())() : null };
      }),
    );
    // both outcomes get their handlers now: an op that fails while its record is still being
    // committed must not be an unhandled rejection (that would end the process)
    const settled = await Promise.all(
      submitted.map((s) => Promise.all([settledOf(s.recorded), s.done === null ? null : settledOf(s.done)]).then(([recorded, done]) => ({ recorded, done }))),
    );
    const unrecorded = settled.find((s) => s.recorded.status === "rejected");
    if (unrecorded !== undefined) {
      for (const s of settled) if (s.done?.status === "fulfilled") discard(s.done.value);
      throw auditFailure((unrecorded.recorded as PromiseRejectedResult).reason);
    }
    return settled.map((s, i) => s.done ?? { status: "rejected", reason: denial((items[i] as AuthorizedOp<T>).req, decisions[i] as Decision) });
  }

  async #record(req: AccessRequest, d: Decision): Promise<void> {
    try {
      await this.#store.appendAudit(decisionEvent(req, d));
    } catch (e) {
      throw auditFailure(e);
    }
  }

  async #decideNow(req: AccessRequest, decider?: (policy: Policy) => Decision): Promise<Decision> {
    await this.#refreshQuietly();
    return this.#decideWith(req, decider);
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
  /** Calls the store synchronously (before its first await), so its records join the group. */
  readonly op: () => Promise<T>;
}

export function accessRequest(caller: Caller, operation: string, target: AccessTarget = {}): AccessRequest {
  return { principal: caller.principal, operation, auth: caller.auth, ...(caller.tokenOps ? { tokenOps: caller.tokenOps } : {}), ...target };
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
  return new ServiceError("ACCESS_DENIED", `${req.operation}${req.onBehalfOf ? ` on behalf of ${req.onBehalfOf.identity}` : ""} denied (${d.rule}): ${d.reason}`);
}

function settledOf<T>(p: Promise<T>): Promise<PromiseSettledResult<T>> {
  return p.then(
    (value) => ({ status: "fulfilled", value }),
    (reason: unknown) => ({ status: "rejected", reason }),
  );
}

function auditFailure(e: unknown): AuditError {
  if (isPipesealError(e) && e.code === "AUDIT_WRITE_FAILED") return e as AuditError;
  return new AuditError("AUDIT_WRITE_FAILED", undefined, { cause: e });
}
