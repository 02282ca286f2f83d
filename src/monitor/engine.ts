/**
 * The detection engine: pure (no I/O, no clock of its own), fed audit records in seq order.
 * Before the learning cutoff it only learns; after it, it evaluates each record as the live
 * monitor sees it, and keeps learning from what is not anomalous. Memory grows with
 * principals × keys (fixed-size profiles, bounded sets and windows), never with records.
 *
 * Baselines: per principal, an hour-of-week activity profile (off-hours); per principal × key,
 * an hour-of-week request profile (volume-spike), the context values used (new-context) and the
 * peak of distinct objects per window (bulk-read). The honeytoken check runs even while
 * learning and its records never enter a baseline: a honeytoken is never normal.
 *
 * @example
 * const engine = new MonitorEngine({ config, learnUntilMs: Date.parse("2026-10-26T00:00:00Z") });
 * for await (const r of readAuditRecords(input)) for (const e of engine.push(r)) if (e.type === "open") send(e.alert);
 * for (const e of engine.finish()) …
 */
import type { MonitorConfig } from "./config.js";
import { honeytokenMatcher, type PlantedDecoy } from "./honeytoken-match.js";
import { type Incident, type IncidentEvent, addSeqs, alertId, incidentKey, mergeEvidence, toAlert } from "./incidents.js";
import { HourProfile, addValue } from "./profile.js";
import { suppressionCheck } from "./suppress.js";
import { HOUR_MS, dayIndex, hourIndex, slotName, slotOfHour } from "./time.js";
import type { Alert, DetectionId, EvidenceValue, MonitorRecord } from "./types.js";
import { fromEngineState, toEngineState, type EngineState } from "./state.js";
import type { Bucket, PkState, PrincipalState } from "./engine-types.js";

/** volume-spike needs a week of a principal × key's history: its baseline is per hour of the week. */
const MIN_VOLUME_HISTORY_MS = 7 * 24 * HOUR_MS;
const MAX_CONTEXT_KEYS = 32;
const MAX_WINDOW_OBJECTS = 200_000;
const MAX_NEW_VALUES = 64;
const SWEEP_EVERY_MS = 60_000;
const NONE: readonly IncidentEvent[] = Object.freeze([]);

export interface EngineOptions {
  readonly config: MonitorConfig;
  /** Learn from records before this time; default: the first `learn.days` of the stream. */
  readonly learnUntilMs?: number;
  /** Decoys recorded by `honeytoken plant`. */
  readonly decoys?: readonly PlantedDecoy[];
}

/** An event whose alert is built once the push that made it ends. */
interface Pending {
  readonly type: "open" | "close" | "suppressed";
  readonly inc: Incident;
}

function materialize(pending: readonly Pending[]): IncidentEvent[] {
  return pending.map((p): IncidentEvent => {
    if (p.type === "close") return { type: "close", alert: toAlert(p.inc, "closed") };
    if (p.type === "suppressed") return { type: "suppressed", alert: toAlert(p.inc, "open"), suppression: p.inc.suppressedBy! };
    return { type: "open", alert: toAlert(p.inc, "open") };
  });
}

const newBucket = (): Bucket => ({ hour: -1, count: 0, seqs: [], alerted: false });

export class MonitorEngine {
  readonly config: MonitorConfig;
  #cutoffMs: number | undefined;
  #lastSeq = 0;
  #lastSweepMs = 0;
  #honeytoken: ReturnType<typeof honeytokenMatcher>;
  readonly #suppressed: ReturnType<typeof suppressionCheck>;
  readonly #principals = new Map<string, PrincipalState>();
  /** principal → key → baseline: two lookups by strings whose hashes V8 caches, not a joined string per record. */
  readonly #pks = new Map<string, Map<string, PkState>>();
  readonly #open = new Map<string, Incident>();

  constructor(options: EngineOptions, state?: EngineState) {
    this.config = options.config;
    this.#cutoffMs = options.learnUntilMs;
    this.#honeytoken = honeytokenMatcher(options.config.honeytokens, options.decoys);
    this.#suppressed = suppressionCheck(options.config.suppressions);
    if (state) {
      const s = fromEngineState(state);
      this.#cutoffMs = s.cutoffMs;
      this.#lastSeq = s.lastSeq;
      for (const [k, v] of s.principals) this.#principals.set(k, v);
      for (const pk of s.pks) this.#pkMap(pk.principal).set(pk.key, pk);
      for (const inc of s.incidents) this.#open.set(incidentKey(inc.detection, inc.principal, inc.key), inc);
    }
  }

  /** Replaces the planted decoys (the registry changed). */
  setDecoys(decoys: readonly PlantedDecoy[]): void {
    this.#honeytoken = honeytokenMatcher(this.config.honeytokens, decoys);
  }

  /** The seq of the last record taken; records at or below it are skipped (a resumed stream replays nothing). */
  get lastSeq(): number {
    return this.#lastSeq;
  }

  get learnUntilMs(): number | undefined {
    return this.#cutoffMs;
  }

  /** Takes one record (in seq order). Returns the incidents it opened, closed or had silenced. */
  push(r: MonitorRecord): readonly IncidentEvent[] {
    const events: Pending[] = [];
    this.#take(events, r);
    return events.length === 0 ? NONE : materialize(events);
  }

  #take(events: Pending[], r: MonitorRecord): void {
    if (r.seq <= this.#lastSeq) return;
    this.#lastSeq = r.seq;
    this.#cutoffMs ??= r.timeMs + this.config.learnDays * 24 * HOUR_MS;
    if (r.timeMs - this.#lastSweepMs >= SWEEP_EVERY_MS) this.#sweep(r.timeMs, events);
    if (this.#isOwn(r)) return;
    const learning = r.timeMs < this.#cutoffMs;
    const dataOp = isDataOperation(r.operation);
    if (dataOp) {
      const hit = this.#honeytoken(r);
      if (hit) {
        this.#raise(events, "honeytoken", r.principal, r.key, r, [r.seq], { match: `${hit.by} ${hit.what}` });
        return; // never learned
      }
    }
    const p = this.#principal(r.principal);
    if (learning) p.learned = true;
    this.#activity(events, p, r, learning);
    if (r.outcome !== "ok") {
      if (!learning) this.#denial(events, p, r);
      return;
    }
    if (r.key !== null && dataOp && !r.operation.startsWith("authz.")) this.#access(events, p, r, learning);
    else if (!learning && !p.learned) this.#raise(events, "new-principal", r.principal, null, r, [r.seq], { principalKnown: false, operation: r.operation });
    return;
  }

  /** Closes incidents whose window passed by wall-clock `nowMs` (the live monitor calls this when the audit is quiet). */
  flush(nowMs: number): IncidentEvent[] {
    const events: Pending[] = [];
    this.#sweep(nowMs, events);
    return materialize(events);
  }

  /** End of input: every incident closes. */
  finish(): IncidentEvent[] {
    const events: Pending[] = [];
    this.#sweep(Number.POSITIVE_INFINITY, events);
    return materialize(events);
  }

  /** Open, unsuppressed incidents that grew since the last call. */
  updates(): Alert[] {
    const out: Alert[] = [];
    for (const inc of this.#open.values()) {
      if (inc.dirty && inc.suppressedBy === null) out.push(toAlert(inc, "open"));
      inc.dirty = false;
    }
    return out;
  }

  openAlerts(): Alert[] {
    return [...this.#open.values()].filter((i) => i.suppressedBy === null).map((i) => toAlert(i, "open"));
  }

  /** A JSON-able snapshot (for the sealed state file). */
  toState(): EngineState {
    return toEngineState(
      this.#cutoffMs,
      this.#lastSeq,
      this.#principals,
      [...this.#pks.values()].flatMap((m) => [...m.values()]),
      [...this.#open.values()],
    );
  }

  // ── per record ──

  #isOwn(r: MonitorRecord): boolean {
    // the monitor's own records (alerts, acks, suppressions, plants) and its state key are not behaviour to learn
    return r.operation.startsWith("monitor.") || r.operation.startsWith("honeytoken.") || r.key === this.config.state.key;
  }

  #principal(name: string): PrincipalState {
    let p = this.#principals.get(name);
    if (!p) this.#principals.set(name, (p = { learned: false, days: 0, lastDay: -1, keys: 0, profile: new HourProfile(), bucket: newBucket(), denials: [] }));
    return p;
  }

  /** Every record of a principal is activity: its hour-of-week profile drives off-hours. */
  #activity(events: Pending[], p: PrincipalState, r: MonitorRecord, learning: boolean): void {
    const h = hourIndex(r.timeMs);
    roll(p.bucket, p.profile, h);
    p.bucket.count++;
    p.bucket.seqs.push(r.seq);
    const day = dayIndex(r.timeMs);
    if (day !== p.lastDay) {
      p.lastDay = day;
      if (learning) p.days++;
    }
    const c = this.config.offHours;
    if (learning || !this.config.enabled["off-hours"] || !p.learned || p.days < c.minActiveDays) return;
    if (p.profile.active > c.maxActiveShare * 168 || p.profile.activeNear(h)) return; // a 24/7 workload, or a normal hour for this kind of day
    this.#raise(events, "off-hours", r.principal, null, r, p.bucket.alerted ? [r.seq] : p.bucket.seqs, {
      hourOfWeek: slotName(slotOfHour(h)),
      baselineActiveHours: p.profile.active,
      observed: p.bucket.count,
    });
    p.bucket.alerted = true;
  }

  #denial(events: Pending[], p: PrincipalState, r: MonitorRecord): void {
    if (!this.config.enabled["denial-burst"]) return;
    const { windowSeconds, count } = this.config.denialBurst;
    const windowMs = windowSeconds * 1000;
    p.denials.push({ t: r.timeMs, seq: r.seq });
    while (p.denials.length > count || (p.denials.length > 0 && p.denials[0].t < r.timeMs - windowMs)) p.denials.shift();
    const open = this.#open.get(incidentKey("denial-burst", r.principal, null));
    const evidence = { denials: p.denials.length, windowSeconds, threshold: count, errorCode: r.errorCode };
    if (open && r.timeMs - open.lastMs <= windowMs) this.#raise(events, "denial-burst", r.principal, null, r, [r.seq], evidence);
    else if (p.denials.length >= count)
      this.#raise(
        events,
        "denial-burst",
        r.principal,
        null,
        r,
        p.denials.map((d) => d.seq),
        evidence,
      );
  }

  #pkMap(principal: string): Map<string, PkState> {
    let m = this.#pks.get(principal);
    if (!m) this.#pks.set(principal, (m = new Map<string, PkState>()));
    return m;
  }

  #access(events: Pending[], p: PrincipalState, r: MonitorRecord, learning: boolean): void {
    const key = r.key!;
    const keys = this.#pkMap(r.principal);
    let pk = keys.get(key);
    if (!pk) {
      pk = {
        principal: r.principal,
        key,
        firstMs: r.timeMs,
        learned: false,
        profile: new HourProfile(),
        bucket: newBucket(),
        contexts: new Map(),
        win: -1,
        objects: new Set(),
        winSeqs: [],
        prevCount: 0,
        prevSeqs: [],
        prevAlerted: false,
        winAlerted: false,
        peak: 0,
        pending: 0,
      };
      keys.set(key, pk);
    }
    if (learning && !pk.learned) {
      pk.learned = true;
      p.keys++;
    }
    // while a new principal × key is under its new-principal alert, its behaviour is learned (so it is known once the alert closes)
    const judge = !learning && pk.learned;
    if (!learning && !pk.learned && this.config.enabled["new-principal"]) {
      this.#raise(events, "new-principal", r.principal, key, r, [r.seq], { principalKnown: p.learned, keysKnownForPrincipal: p.keys });
    }
    this.#volume(events, pk, r, judge);
    this.#contexts(events, pk, r, judge);
    this.#bulk(events, pk, r, judge);
  }

  #volume(events: Pending[], pk: PkState, r: MonitorRecord, judge: boolean): void {
    const h = hourIndex(r.timeMs);
    roll(pk.bucket, pk.profile, h);
    pk.bucket.count++;
    pk.bucket.seqs.push(r.seq);
    if (!judge || !this.config.enabled["volume-spike"] || r.timeMs - pk.firstMs < MIN_VOLUME_HISTORY_MS) return;
    const expected = pk.profile.expected(h);
    const threshold = Math.max(this.config.volume.minCount, this.config.volume.factor * expected);
    if (pk.bucket.count <= threshold) return;
    this.#raise(events, "volume-spike", r.principal, r.key, r, pk.bucket.alerted ? [r.seq] : pk.bucket.seqs, {
      observed: pk.bucket.count,
      baseline: Math.round(expected * 100) / 100,
      threshold: Math.round(threshold * 100) / 100,
      hourOfWeek: slotName(slotOfHour(h)),
    });
    pk.bucket.alerted = true;
  }

  /** Context values (and the object's folder, as `@dir`): learned, or judged against what was learned. */
  #contexts(events: Pending[], pk: PkState, r: MonitorRecord, judge: boolean): void {
    const ctx = r.context;
    const obj = r.object;
    const slash = obj === null ? -1 : obj.lastIndexOf("/");
    if (ctx === null && slash <= 0) return;
    const dir = slash > 0 ? obj!.slice(0, slash) : null;
    const { maxValues, ignore } = this.config.newContext;
    const skip = (k: string) => ignore.length > 0 && ignore.includes(k);
    // `@…` keys of a record's context are the key service's notes (who asked for whom: `@delegate`,
    // `@delegation`, `@on-behalf-of`), never an encryption context's key: not context values
    const note = (k: string) => k.charCodeAt(0) === 64;
    // for…in, not Object.entries: this runs on every record, and allocates nothing when nothing is new
    if (!judge || !this.config.enabled["new-context"]) {
      if (ctx !== null) for (const k in ctx) if (!note(k) && !skip(k)) addValue(pk.contexts, k, ctx[k], maxValues, MAX_CONTEXT_KEYS);
      if (dir !== null && !skip("@dir")) addValue(pk.contexts, "@dir", dir, maxValues, MAX_CONTEXT_KEYS);
      return;
    }
    let fresh: string[] | null = null;
    const judgeOne = (k: string, v: string) => {
      if (skip(k)) return;
      const set = pk.contexts.get(k);
      if (set === undefined ? pk.contexts.size < MAX_CONTEXT_KEYS : set !== "open" && !set.has(v)) (fresh ??= []).push(`${k}=${v}`);
    };
    if (ctx !== null) for (const k in ctx) if (!note(k)) judgeOne(k, ctx[k]);
    if (dir !== null) judgeOne("@dir", dir);
    if (fresh === null) return;
    const inc = this.#raise(events, "new-context", r.principal, r.key, r, [r.seq], {});
    for (const v of fresh as string[]) if (!inc.newValues.includes(v) && inc.newValues.length < MAX_NEW_VALUES) inc.newValues.push(v);
    inc.evidence.newValues = inc.newValues.slice(0, 8).join(", ") + (inc.newValues.length > 8 ? ` (+${inc.newValues.length - 8} more)` : "");
    inc.evidence.newValueCount = inc.newValues.length;
  }

  #bulk(events: Pending[], pk: PkState, r: MonitorRecord, judge: boolean): void {
    const { windowSeconds, factor, minObjects } = this.config.bulkRead;
    const w = Math.floor(r.timeMs / (windowSeconds * 1000));
    if (w !== pk.win) {
      // a pair of adjacent windows closes. Its distinct count is learned one window late, once
      // the next window shows it was not the start of an enumeration that alerts there.
      if (pk.win >= 0) {
        if (!pk.winAlerted) pk.peak = Math.max(pk.peak, pk.pending);
        pk.pending = pk.winAlerted || pk.prevAlerted ? 0 : pk.prevCount + pk.objects.size;
      }
      const adjacent = w === pk.win + 1;
      pk.prevCount = adjacent ? pk.objects.size : 0;
      pk.prevSeqs = adjacent ? pk.winSeqs : [];
      pk.prevAlerted = adjacent && pk.winAlerted;
      pk.win = w;
      pk.objects = new Set();
      pk.winSeqs = [];
      pk.winAlerted = false;
    }
    const obj = r.object ?? r.headerHash;
    if (obj === null) return;
    if (pk.objects.size < MAX_WINDOW_OBJECTS) pk.objects.add(obj);
    pk.winSeqs.push(r.seq);
    if (!judge || !this.config.enabled["bulk-read"]) return;
    const observed = pk.prevCount + pk.objects.size;
    const threshold = Math.max(minObjects, factor * pk.peak);
    if (observed <= threshold) return;
    this.#raise(events, "bulk-read", r.principal, r.key, r, pk.winAlerted || pk.prevAlerted ? [r.seq] : [...pk.prevSeqs, ...pk.winSeqs], {
      objects: observed,
      baselinePeak: pk.peak,
      threshold,
      windowSeconds: 2 * windowSeconds,
    });
    pk.winAlerted = true;
  }

  // ── incidents ──

  #raise(
    events: Pending[],
    detection: DetectionId,
    principal: string,
    key: string | null,
    r: MonitorRecord,
    seqs: readonly number[],
    evidence: Record<string, EvidenceValue>,
  ): Incident {
    const k = incidentKey(detection, principal, key);
    const open = this.#open.get(k);
    if (open && r.timeMs - open.lastMs <= this.config.dedupeSeconds * 1000) {
      open.lastMs = Math.max(open.lastMs, r.timeMs);
      addSeqs(open, seqs, this.config.maxSeqs);
      mergeEvidence(open, evidence);
      return open;
    }
    if (open) this.#close(open, events);
    const firstSeq = seqs[0] ?? r.seq;
    const suppression = this.#suppressed(detection, principal, key, r.timeMs);
    const inc: Incident = {
      id: alertId(detection, principal, key, firstSeq),
      detection,
      severity: this.config.severity[detection],
      principal,
      key,
      firstMs: r.timeMs,
      lastMs: r.timeMs,
      seqs: [],
      omitted: 0,
      maxSeq: 0,
      evidence: { ...evidence },
      newValues: [],
      suppressedBy: suppression,
      dirty: false,
    };
    addSeqs(inc, seqs, this.config.maxSeqs);
    inc.dirty = false;
    this.#open.set(k, inc);
    // the event's alert is built when the push ends (new-context fills its evidence after this returns)
    events.push({ type: suppression ? "suppressed" : "open", inc });
    return inc;
  }

  #sweep(nowMs: number, events: Pending[]): void {
    this.#lastSweepMs = nowMs;
    const limit = this.config.dedupeSeconds * 1000;
    for (const inc of [...this.#open.values()]) if (nowMs - inc.lastMs > limit) this.#close(inc, events);
  }

  #close(inc: Incident, events: Pending[]): void {
    this.#open.delete(incidentKey(inc.detection, inc.principal, inc.key));
    // once an alert about something new has been raised, the new thing becomes part of the baseline
    if (inc.detection === "new-principal") {
      const p = this.#principals.get(inc.principal);
      if (p) p.learned = true;
      const pk = inc.key === null ? undefined : this.#pks.get(inc.principal)?.get(inc.key);
      if (pk && !pk.learned) {
        pk.learned = true;
        if (p) p.keys++;
      }
    } else if (inc.detection === "new-context" && inc.key !== null) {
      const pk = this.#pks.get(inc.principal)?.get(inc.key);
      for (const nv of inc.newValues) {
        const eq = nv.indexOf("=");
        if (pk) addValue(pk.contexts, nv.slice(0, eq), nv.slice(eq + 1), this.config.newContext.maxValues, MAX_CONTEXT_KEYS);
      }
    }
    if (inc.suppressedBy === null) events.push({ type: "close", inc });
  }
}

/** Closes the bucket's hour into the profile when the hour changes (an hour that alerted is not learned). */
function roll(b: Bucket, profile: HourProfile, hour: number): void {
  if (b.hour === hour) return;
  if (b.hour >= 0 && b.count > 0 && !b.alerted) profile.observe(b.hour, b.count);
  b.hour = hour;
  b.count = 0;
  b.seqs = [];
  b.alerted = false;
}

/**
 * Data access: an operation without a dot (`unwrap`, `decrypt`, `range-read`, `field-reveal`…),
 * or the key service's decision about one (`authz.unwrap`: a denial, or an unwrap that failed
 * before it started; an allowed one is the operation's own record). Dotted names are administration
 * (`key.rotate`, `ca.issue`, `audit.export`): activity, not use of a key's data.
 */
function isDataOperation(op: string): boolean {
  const dot = op.indexOf(".");
  if (dot === -1) return true;
  return op.startsWith("authz.") && op.indexOf(".", 6) === -1;
}
