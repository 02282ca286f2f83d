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
 * (which rule takes which field), reads its anchors (record id, subject ids) and keys, and
 * writes every new value only once the whole record succeeded.
 */
import { isPipesealError } from "../errors.js";
import type { AuditObject, Keyring } from "../keys/keyring.js";
import { FieldError } from "./errors.js";
import { ERASED, type FieldKey, FieldKeys } from "./keys.js";
import { type CompiledPath, type FieldMatch, findMatches, getPath } from "./path.js";
import type { FieldPolicy, FieldRule } from "./policy.js";
import { FieldGcm } from "./gcm.js";
import { JsonlSplice, directName } from "./jsonl-splice.js";
import { type FieldStats, newStats } from "./stats.js";
import { type FieldValue, readValue } from "./value-format.js";
import * as deterministic from "./actions/deterministic.js";
import * as encrypt from "./actions/encrypt.js";
import * as maskAction from "./actions/mask.js";
import * as pseudonymize from "./actions/pseudonymize.js";
import * as tokenize from "./actions/tokenize.js";

export type FieldOperation = "apply" | "reveal" | "rewrap";
export const ERASED_MARKER = "[ERASED]";

const LATER = Symbol("later");

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

  constructor(policy: FieldPolicy, keyring: Keyring, op: FieldOperation, options: { flat: boolean; object?: AuditObject }) {
    this.policy = policy;
    this.op = op;
    this.flat = options.flat;
    this.#keys = new FieldKeys(keyring, options.object ?? { operation: `field-${op}` });
    const names = policy.rules.map((r) => directName(r.field));
    this.#direct = names.every((n) => n !== undefined) && new Set(names).size === names.length;
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
    for (const { rule } of plan) if (rule.subject && !subjectIds?.has(rule)) (subjectIds ??= new Map()).set(rule, this.#anchor(rule.subject, record, row, "subject"));
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
        if (typeof value === "object") throw new FieldError("INVALID_ARGUMENT", `a ${Array.isArray(value) ? "list" : "object"} cannot be protected by ${rule.action} (name its leaves, e.g. ${match.path}.*)`, { row, field: match.path });
        const now = this.#applyNow(rule, value, recordId, row, match.path);
        if (now === LATER) {
          return this.#applyValue(rule, match, value, recordId, subjectIds?.get(rule), { row, field: match.path }).then((v) => {
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
    return encrypt.apply(this.#gcm, key, value, path, recordId, { row, field: path });
  }

  /** A named encrypt rule's primary key if this run derived it already (the same object as #keyFor's). */
  #encryptKey(rule: FieldRule): FieldKey | undefined {
    let key = this.#ruleKeys.get(rule);
    if (!key) {
      key = this.#keys.namedNow(rule.key!, "primary", "encrypt");
      if (key) this.#ruleKeys.set(rule, key);
    }
    return key;
  }

  async #applyValue(rule: FieldRule, match: FieldMatch, value: unknown, recordId: string, subjectId: string | undefined, where: { row: number; field: string }): Promise<unknown> {
    switch (rule.action) {
      case "encrypt": {
        const key = await this.#keyFor(rule, "encrypt", subjectId);
        if (key === ERASED) throw new FieldError("KEY_DESTROYED", "the record's subject was erased; new data for it is refused", where);
        return encrypt.apply(this.#gcm, key, value, match.path, recordId, where);
      }
      case "deterministic": {
        const key = await this.#keyFor(rule, "deterministic", subjectId);
        if (key === ERASED) throw new FieldError("KEY_DESTROYED", "the record's subject was erased; new data for it is refused", where);
        return deterministic.apply(key, value, match.schemaPath, where);
      }
      case "tokenize": {
        const key = await this.#keys.named(rule.key!, rule.version ?? "primary", "tokenize");
        return tokenize.apply(key, rule, match.schemaPath, value, where);
      }
      case "pseudonymize": {
        if (typeof value !== "string" && typeof value !== "number" && typeof value !== "bigint" && typeof value !== "boolean") throw new FieldError("INVALID_ARGUMENT", "cannot pseudonymize this value", where);
        const key = await this.#keys.named(rule.key!, rule.version ?? "primary", "pseudonymize");
        return pseudonymize.apply(key, rule, value, where);
      }
      case "mask":
        return maskAction.apply(value, rule, where);
      default:
        return value;
    }
  }

  #keyFor(rule: FieldRule, purpose: "encrypt" | "deterministic", subjectId: string | undefined): Promise<FieldKey | typeof ERASED> {
    if (rule.subject) return this.#keys.subjectForApply(this.policy.namespace, subjectId!, purpose);
    return this.#keys.named(rule.key!, "primary", purpose);
  }

  async #reverse(record: Record<string, unknown>, row: number, plan: Planned[], rewrap: boolean): Promise<void> {
    // reveal anchors first (record id may itself be deterministic/tokenized)
    const anchorPaths = new Set([this.policy.recordId?.source, ...this.policy.rules.map((r) => r.subject?.source)].filter((s): s is string => s !== undefined));
    const ordered = [...plan.filter((p) => anchorPaths.has(p.match.path)), ...plan.filter((p) => !anchorPaths.has(p.match.path))];
    const revealedAnchors = new Map<string, unknown>();
    let recordId: string | undefined;
    const writes: Array<[FieldMatch, unknown]> = [];
    for (const { rule, match } of ordered) {
      const where = { row, field: match.path };
      const value = (match.parent as Record<string | number, unknown>)[match.key];
      if (value === null || value === "" || value === undefined) continue;
      let out: unknown = value;
      let clearOf: unknown;
      const isAnchor = anchorPaths.has(match.path);
      if (rule.action === "encrypt" || rule.action === "deterministic") {
        // a value that does not parse is FIELD_MALFORMED; a well-formed value of the other
        // action was moved here from another field: an authentication failure like any move
        const parsed = readValue(value, where);
        if (parsed.action !== (rule.action === "encrypt" ? "e" : "d")) {
          throw new FieldError("DECRYPT_FAILED", `the value is not a pipeseal ${rule.action} value (moved from another field, or altered)`, where);
        }
        const purpose = rule.action;
        if (rule.subject && parsed.keyRef.startsWith("@")) await this.#checkSubject(rule.subject, parsed.keyRef, record, row, revealedAnchors, where);
        const key = parsed.keyRef.startsWith("@") ? await this.#keys.subjectForReveal(parsed.keyRef, parsed.version, purpose) : await this.#keys.named(parsed.keyRef, parsed.version, purpose);
        if (key === ERASED) {
          this.stats.erased++;
          writes.push([match, ERASED_MARKER]);
          continue;
        }
        let clear: FieldValue;
        if (parsed.action === "e") {
          recordId ??= this.#revealedId(record, row, revealedAnchors);
          clear = encrypt.reveal(this.#gcm, key, parsed.payload, match.path, recordId, where);
        } else clear = deterministic.reveal(key, parsed.payload, match.schemaPath, where);
        if (isAnchor) revealedAnchors.set(match.path, clear);
        if (rewrap) {
          const target = await this.#rewrapTarget(rule, parsed.keyRef, purpose, record, row, revealedAnchors);
          if (target === ERASED) {
            // the rule now names the subject's key and the subject was erased: its data goes too
            this.stats.erased++;
            writes.push([match, ERASED_MARKER]);
            continue;
          }
          if (target.keyRef === parsed.keyRef && target.version === parsed.version) continue;
          recordId ??= this.#revealedId(record, row, revealedAnchors);
          out = parsed.action === "e" ? encrypt.rewrap(this.#gcm, target, clear, match.path, recordId, where) : deterministic.rewrap(target, clear, match.schemaPath, where);
        } else out = clear;
      } else if (rule.action === "tokenize") {
        if (rewrap) {
          if (rule.previousVersion === undefined) {
            if (isAnchor) revealedAnchors.set(match.path, tokenize.reveal(await this.#keys.named(rule.key!, rule.version ?? "primary", "tokenize"), rule, match.schemaPath, value, where));
            continue;
          }
          const from = await this.#keys.named(rule.key!, rule.previousVersion, "tokenize");
          const to = await this.#keys.named(rule.key!, rule.version ?? "primary", "tokenize");
          if (from.version === to.version) continue;
          ({ clear: clearOf, token: out } = tokenize.rewrap(from, to, rule, match.schemaPath, value, where));
        } else {
          const key = await this.#keys.named(rule.key!, rule.version ?? "primary", "tokenize");
          out = clearOf = tokenize.reveal(key, rule, match.schemaPath, value, where);
        }
        if (isAnchor) revealedAnchors.set(match.path, clearOf);
      } else continue; // irreversible or untouched
      writes.push([match, out]);
      this.#count(rewrap ? "rewrap" : rule.action);
    }
    for (const [m, v] of writes) (m.parent as Record<string | number, unknown>)[m.key] = v;
  }

  /**
   * A subject-keyed value must sit in its subject's record. The value's key reference
   * (`@ns~ref`, bound into its AAD and naming the subject key that seals it) is compared with
   * the ref of the record's clear subject: a value moved to another subject's record, or a
   * record whose subject field was changed, would otherwise reveal one subject's data as
   * another's, and rewrap would re-seal it under the other subject's key, out of reach of the
   * first subject's erasure. Checked before any key is looked up; never revealed or rewrapped.
   * @throws FieldError(FIELD_MALFORMED)
   */
  async #checkSubject(subject: CompiledPath, keyRef: string, record: Record<string, unknown>, row: number, revealed: Map<string, unknown>, where: { row: number; field: string }): Promise<void> {
    const expected = await this.#keys.subjectRef(this.policy.namespace, this.#revealedAnchor(subject, record, row, revealed, "subject"));
    if (expected !== keyRef) {
      throw new FieldError("FIELD_MALFORMED", "the value is sealed for another data subject than this record's (moved from another record, or the record's subject field was changed); it is neither revealed nor rewrapped", where);
    }
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

  /**
   * Where rewrap moves a value: the key its rule names now, at its current version. A rule with
   * `subject:` names the record's subject key (a subject's only live version is its current
   * one; ERASED once erased), so values move between named and subject keys as the policy
   * changes. Without `subject:`, a named-key value goes to its own key's primary and a subject
   * value to the rule's key.
   */
  async #rewrapTarget(rule: FieldRule, from: string, purpose: "encrypt" | "deterministic", record: Record<string, unknown>, row: number, revealed: Map<string, unknown>): Promise<FieldKey | typeof ERASED> {
    if (rule.subject) return this.#keys.subjectForApply(this.policy.namespace, this.#revealedAnchor(rule.subject, record, row, revealed, "subject"), purpose);
    return this.#keys.named(from.startsWith("@") ? rule.key! : from, "primary", purpose);
  }

  close(): void {
    this.#keys.close();
    this.#ruleKeys.clear();
    this.#gcm.wipe();
  }
}

/** mask: letters and digits become `char`, except keepFirst/keepLast characters and an e-mail domain (actions/mask.ts). */
export const mask = maskAction.apply;
