/**
 * Record-level field protection: apply, reveal and rewrap one record (a JSON object, or a flat
 * CSV/Parquet row) under a policy. Pure over the record plus keys; formats live in formats/.
 *
 * Security guarantees:
 * - encrypt: AES-256-GCM (NIST SP 800-38D), random 96-bit IV per value; AAD binds the format,
 *   key, version, the concrete field path and the record id, so a value moved to another field
 *   or record, or altered, does not reveal (DECRYPT_FAILED). Leaks the plaintext length.
 * - deterministic: AES-SIV (RFC 5297), associated data = key/version header and the field's
 *   schema path. Leaks equality of plaintexts within a field (and under one key version) and
 *   the plaintext length.
 * - tokenize: FF1; a keyed permutation of same-shaped strings; leaks the shape, kept characters
 *   and equality; no integrity (an altered token reveals to a different plausible value).
 * - pseudonymize: HMAC-SHA-256, irreversible; leaks equality.
 * Never a silently unprotected value: a value an action cannot handle is a FieldError.
 * Each action's apply/reveal/rewrap is its own module (actions/); this class plans a record
 * (which rule takes which field), reads its anchors (record id, subject ids), dispatches each
 * value to its action, and writes every new value only once the whole record succeeded.
 */
import { isPipesealError } from "../errors.js";
import type { AuditObject, Keyring } from "../keys/keyring.js";
import { FieldError } from "./errors.js";
import { type FieldKey, FieldKeys } from "./keys.js";
import { type CompiledPath, type FieldMatch, findMatches, getPath } from "./path.js";
import type { FieldAction, FieldPolicy, FieldRule } from "./policy.js";
import { FieldGcm } from "./gcm.js";
import { JsonlSplice, directName } from "./jsonl-splice.js";
import { type FieldStats, newStats } from "./stats.js";
import type { ActionModule, ApplyScope, ReverseScope, Where } from "./actions/action.js";
import * as deterministic from "./actions/deterministic.js";
import * as encrypt from "./actions/encrypt.js";
import * as maskAction from "./actions/mask.js";
import * as pseudonymize from "./actions/pseudonymize.js";
import * as tokenize from "./actions/tokenize.js";

export type FieldOperation = "apply" | "reveal" | "rewrap";
export const ERASED_MARKER = "[ERASED]";

const LATER = Symbol("later");

const ACTIONS: Readonly<Record<Exclude<FieldAction, "keep" | "drop">, ActionModule>> = { encrypt, deterministic, tokenize, pseudonymize, mask: maskAction };

/** The module of an action that changes a value; undefined for keep and drop, which the protector does itself. */
function moduleOf(action: FieldAction): ActionModule | undefined {
  return action === "keep" || action === "drop" ? undefined : ACTIONS[action];
}

interface Planned {
  rule: FieldRule;
  match: FieldMatch;
}

export class FieldProtector {
  readonly policy: FieldPolicy;
  readonly op: FieldOperation;
  readonly flat: boolean;
  readonly stats: FieldStats = newStats();
  readonly #keys: FieldKeys;
  readonly #gcm = new FieldGcm();
  readonly #splice: JsonlSplice | null;
  /** Every rule names one plain top-level field (no wildcard, index or dot), all different: plan by direct lookup. */
  readonly #direct: boolean;
  /** Encrypt rule → its derived primary key (the same object FieldKeys caches for the run). */
  readonly #ruleKeys = new Map<FieldRule, FieldKey>();
  /** The record id and subject fields: read (revealed first, on reveal and rewrap) to bind or key the others. */
  readonly #anchorPaths: ReadonlySet<string>;

  constructor(policy: FieldPolicy, keyring: Keyring, op: FieldOperation, options: { flat: boolean; object?: AuditObject }) {
    this.policy = policy;
    this.op = op;
    this.flat = options.flat;
    this.#keys = new FieldKeys(keyring, options.object ?? { operation: `field-${op}` });
    const names = policy.rules.map((r) => directName(r.field));
    this.#direct = names.every((n) => n !== undefined) && new Set(names).size === names.length;
    this.#anchorPaths = new Set([policy.recordId?.source, ...policy.rules.map((r) => r.subject?.source)].filter((s): s is string => s !== undefined));
    this.#splice = op === "apply" && !this.flat ? JsonlSplice.for(policy, this.#gcm, (rule) => this.#encryptKey(rule), this.stats) : null;
  }

  /**
   * The JSONL hot path: `line` with its encrypted values replaced in place (jsonl-splice.ts),
   * or undefined when the line or the policy needs the general path — then parse the line and
   * call `processNow`. Same output (but for the random IVs) and stats on the lines it takes.
   */
  applyJsonLine(line: string, row: number): string | undefined {
    return this.#splice?.apply(line, row);
  }

  /** Derives the keys every rule will need up front (fail fast on a missing or disabled key). */
  async prepare(): Promise<void> {
    for (const r of this.policy.rules) {
      if (r.key === undefined || r.subject) continue;
      if (this.op === "reveal" && (r.action === "encrypt" || r.action === "deterministic")) continue; // versions come from the values
      if (this.op === "reveal" && r.action === "pseudonymize") continue;
      await this.#keys.named(r.key, r.version ?? "primary", r.action);
    }
  }

  #plan(record: Record<string, unknown>): Planned[] {
    if (this.#direct) {
      // same result as findMatches for one-segment, wildcard-free paths (flat or not)
      const out: Planned[] = [];
      for (const rule of this.policy.rules) {
        const name = rule.field.source;
        if (Object.hasOwn(record, name)) out.push({ rule, match: { parent: record, key: name, path: name, schemaPath: name } });
        else this.stats.absent[name] = (this.stats.absent[name] ?? 0) + 1;
      }
      return out;
    }
    const seen = new Set<string>();
    const out: Planned[] = [];
    for (const rule of this.policy.rules) {
      const matches = findMatches(rule.field, record, this.flat);
      if (matches.length === 0) this.stats.absent[rule.field.source] = (this.stats.absent[rule.field.source] ?? 0) + 1;
      for (const match of matches) {
        if (seen.has(match.path)) continue; // the first rule naming a field wins
        seen.add(match.path);
        out.push({ rule, match });
      }
    }
    return out;
  }

  /** Applies, reveals or rewraps one record in place. `row` is 1-based. @throws FieldError */
  async process(record: Record<string, unknown>, row: number): Promise<Record<string, unknown>> {
    return this.processNow(record, row);
  }

  /**
   * `process` that returns the record itself, not a promise, when nothing had to wait (apply
   * with keys already derived: the hot path of a run); else a promise. Same result and stats.
   * @throws FieldError
   */
  processNow(record: Record<string, unknown>, row: number): Record<string, unknown> | Promise<Record<string, unknown>> {
    if (typeof record !== "object" || record === null || Array.isArray(record)) throw new FieldError("INVALID_ARGUMENT", "a record must be an object", { row });
    const plan = this.#plan(record);
    const pending = this.op === "apply" ? this.#apply(record, row, plan) : this.#reverse(record, row, plan, this.op === "rewrap");
    const done = (): Record<string, unknown> => {
      this.stats.rows++;
      return record;
    };
    return pending ? pending.then(done) : done();
  }

  /** A run's error handling: counts a skipped row. */
  skip(row: number, e: unknown): void {
    this.stats.skipped++;
    if (this.stats.errors.length < 100) this.stats.errors.push({ row, code: isPipesealError(e) ? e.code : "INTERNAL", message: (e as Error).message });
  }

  #count(action: string): void {
    this.stats.values[action] = (this.stats.values[action] ?? 0) + 1;
  }

  #anchor(path: FieldPolicy["recordId"], record: Record<string, unknown>, row: number, what: string): string {
    const name = directName(path!);
    const v = name !== undefined ? (Object.hasOwn(record, name) ? record[name] : undefined) : getPath(path!, record, this.flat);
    if (typeof v === "string" && v !== "") return v;
    if (typeof v === "number" || typeof v === "bigint") return String(v);
    throw new FieldError("INVALID_ARGUMENT", `the ${what} field ${path!.source} is missing or not a string/number`, { row });
  }

  #recordId(record: Record<string, unknown>, row: number): string {
    return this.policy.recordId ? this.#anchor(this.policy.recordId, record, row, "recordId") : `#${row}`;
  }

  /**
   * Synchronous until a value needs a key that is not derived yet (then the rest continues
   * after it, in the same order): the common case costs no promise per value.
   */
  #apply(record: Record<string, unknown>, row: number, plan: Planned[]): void | Promise<void> {
    // anchors are read before anything changes (plaintext record id and subject ids)
    const recordId = plan.some((p) => p.rule.action === "encrypt") ? this.#recordId(record, row) : "";
    let subjectIds: Map<FieldRule, string> | undefined;
    for (const { rule } of plan)
      if (rule.subject && !subjectIds?.has(rule)) (subjectIds ??= new Map()).set(rule, this.#anchor(rule.subject, record, row, "subject"));
    let scope: ApplyScope | undefined; // only once a value has to wait: the hot path allocates none
    const drops: FieldMatch[] = [];
    // compute every new value first, then write: a failing row leaves the record untouched
    const writes: Array<[FieldMatch, unknown]> = [];
    let i = 0;
    const run = (): void | Promise<void> => {
      for (; i < plan.length; i++) {
        const { rule, match } = plan[i];
        const value = (match.parent as Record<string | number, unknown>)[match.key];
        if (rule.action === "keep") continue;
        if (rule.action === "drop") {
          drops.push(match);
          this.#count("drop");
          continue;
        }
        if (value === null || value === "") {
          this.stats.empty++;
          continue;
        }
        if (typeof value === "object")
          throw new FieldError(
            "INVALID_ARGUMENT",
            `a ${Array.isArray(value) ? "list" : "object"} cannot be protected by ${rule.action} (name its leaves, e.g. ${match.path}.*)`,
            { row, field: match.path },
          );
        const now = this.#applyNow(rule, value, recordId, row, match.path);
        if (now === LATER) {
          return this.#applyLater((scope ??= this.#applyScope(recordId, subjectIds)), rule, match, value, { row, field: match.path }).then((v) => {
            writes.push([match, v]);
            this.#count(rule.action);
            i++;
            return run();
          });
        }
        writes.push([match, now]);
        this.#count(rule.action);
      }
      for (const [m, v] of writes) (m.parent as Record<string | number, unknown>)[m.key] = v;
      for (const m of drops.reverse()) {
        if (Array.isArray(m.parent)) m.parent[m.key as number] = null;
        else delete m.parent[m.key as string];
      }
    };
    return run();
  }

  /** Randomized encryption under a named key already derived: no await (the common case). LATER otherwise. */
  #applyNow(rule: FieldRule, value: unknown, recordId: string, row: number, path: string): unknown {
    if (rule.action !== "encrypt" || rule.subject) return LATER;
    const key = this.#encryptKey(rule);
    if (!key) return LATER;
    return encrypt.seal(this.#gcm, key, value, path, recordId, { row, field: path });
  }

  /** A named encrypt rule's primary key if this run derived it already (the same object FieldKeys hands the encrypt action). */
  #encryptKey(rule: FieldRule): FieldKey | undefined {
    let key = this.#ruleKeys.get(rule);
    if (!key) {
      key = this.#keys.namedNow(rule.key!, "primary", "encrypt");
      if (key) this.#ruleKeys.set(rule, key);
    }
    return key;
  }

  /** The record's anchors as apply read them, before anything changed. */
  #applyScope(recordId: string, subjectIds: Map<FieldRule, string> | undefined): ApplyScope {
    return { keys: this.#keys, gcm: this.#gcm, namespace: this.policy.namespace, recordId: () => recordId, subjectId: (rule) => subjectIds!.get(rule)! };
  }

  /** An action that had to wait for a key (or runs after one that did); a promise even when the action throws. */
  async #applyLater(scope: ApplyScope, rule: FieldRule, match: FieldMatch, value: unknown, where: Where): Promise<unknown> {
    return moduleOf(rule.action)!.apply(scope, rule, match, value, where);
  }

  async #reverse(record: Record<string, unknown>, row: number, plan: Planned[], rewrap: boolean): Promise<void> {
    // reveal anchors first (record id may itself be deterministic/tokenized), and the record
    // id before the other anchors: a rewrap fixes the record id it seals under at its first
    // use, which must see the id's plaintext whatever order the policy lists the rules in
    const anchors = this.#anchorPaths;
    const idPath = this.policy.recordId?.source;
    const rank = (p: Planned) => (p.match.path === idPath ? 0 : anchors.has(p.match.path) ? 1 : 2);
    const ordered = [...plan].sort((a, b) => rank(a) - rank(b));
    const revealedAnchors = new Map<string, unknown>();
    let recordId: string | undefined;
    const scope: ReverseScope = {
      keys: this.#keys,
      gcm: this.#gcm,
      namespace: this.policy.namespace,
      rewrap,
      recordId: () => (recordId ??= this.#revealedId(record, row, revealedAnchors)),
      subjectId: (rule) => this.#revealedAnchor(rule.subject!, record, row, revealedAnchors, "subject"),
      isAnchor: (path) => anchors.has(path),
      revealed: (path, clear) => {
        if (anchors.has(path)) revealedAnchors.set(path, clear);
      },
    };
    const writes: Array<[FieldMatch, unknown]> = [];
    for (const { rule, match } of ordered) {
      const value = (match.parent as Record<string | number, unknown>)[match.key];
      if (value === null || value === "" || value === undefined) continue;
      const reverse = moduleOf(rule.action)?.reverse;
      if (reverse === undefined) continue; // irreversible or untouched
      const out = await reverse(scope, rule, match, value, { row, field: match.path });
      if (out === "unchanged") continue;
      if (out === "erased") {
        this.stats.erased++;
        writes.push([match, ERASED_MARKER]);
        continue;
      }
      writes.push([match, out.write]);
      this.#count(rewrap ? "rewrap" : rule.action);
    }
    for (const [m, v] of writes) (m.parent as Record<string | number, unknown>)[m.key] = v;
  }

  /** The plaintext record id during reveal/rewrap (the id field revealed if it is protected). */
  #revealedId(record: Record<string, unknown>, row: number, revealed: Map<string, unknown>): string {
    const p = this.policy.recordId;
    return p ? this.#revealedAnchor(p, record, row, revealed, "recordId") : `#${row}`;
  }

  #revealedAnchor(path: CompiledPath, record: Record<string, unknown>, row: number, revealed: Map<string, unknown>, what: string): string {
    const r = revealed.get(path.source);
    if (typeof r === "string" || typeof r === "number" || typeof r === "bigint") return String(r);
    return this.#anchor(path, record, row, what);
  }

  close(): void {
    this.#keys.close();
    this.#ruleKeys.clear();
    this.#gcm.wipe();
  }
}

/** mask: letters and digits become `char`, except keepFirst/keepLast characters and an e-mail domain (actions/mask.ts). */
export const mask = maskAction.mask;
