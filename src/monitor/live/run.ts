/**
 * `monitor run` over the local keystore: follows the audit as it commits, feeds the engine,
 * records every alert change in the ledger (an audited change: alerts are audit records too)
 * and delivers the changes to the sinks; keeps baselines and position in the sealed state file.
 *
 * Restart without duplicate or gap: the state file holds the engine, its place in the chain and
 * the last ledger change every sink took (`delivered`). On start the monitor delivers again
 * the ledger's changes after `delivered` (a crash between ledger and sink loses nothing), and
 * replays the records after the saved seq; a replayed record that changes nothing in the ledger
 * goes to no sink. A clean stop (SIGINT/SIGTERM) saves the state after the last delivery.
 *
 * @example
 * const ac = new AbortController(); onStopSignal(() => ac.abort());
 * await runMonitor({ ks, config, sinks: [{ sink: stdoutSink(), perMinute: 60 }], signal: ac.signal });
 */
import type { LocalKeystore } from "../../keys/keystore.js";
import { isPipesealError, type PipesealError } from "../../errors.js";
import { MonitorError } from "../errors.js";
import type { MonitorConfig } from "../config.js";
import { MonitorEngine } from "../engine.js";
import { listDecoys } from "../honeytoken/registry.js";
import type { IncidentEvent } from "../incidents.js";
import { SinkChannel } from "../sinks/channel.js";
import type { AlertSink } from "../sinks/sink.js";
import { changesAfter, ensureMonitorTables, lastChangeNo, noteAlerts } from "../store/alerts.js";
import type { Alert } from "../types.js";
import { anchorWriter } from "./anchors.js";
import { DecoyWatch } from "./decoys.js";
import type { ChainPosition, IntegrityProblem } from "./follow.js";
import { healthAlert } from "./health.js";
import { lockState } from "./lock.js";
import { type AuditSource, localSource } from "./source.js";
import { ensureStateKey, loadState, saveState } from "./state-file.js";

const PAGE = 1000;
/** The state file is written at most this often while running (and always at a clean stop). */
const SAVE_EVERY_MS = 1000;
/** `--once` gives up on a sink after this many failed attempts in a row (a daemon retries for ever). */
const ONCE_MAX_FAILURES = 4;

export interface RunMonitorOptions {
  /** Holds the state key, the alert ledger and the sinks' sealed queues (and, by default, the audit followed). */
  readonly ks: LocalKeystore;
  readonly config: MonitorConfig;
  /** The audit followed (default: the keystore's own, `localSource(ks)`; the key service's: `remoteSource(kr)`). */
  readonly source?: AuditSource;
  /** The sinks, each with its rate limit (sends per minute). */
  readonly sinks: readonly { readonly sink: AlertSink; readonly perMinute: number }[];
  readonly signal: AbortSignal;
  /** Write a signed audit anchor this often into `dir` (first one at start). */
  readonly anchors?: { readonly everyMs: number; readonly dir: string } | null;
  /** Only for a first run (no state yet): learn from records before this time. */
  readonly learnUntilMs?: number;
  /** Stop once the audit is read to its end and every sink took what it is owed. */
  readonly once?: boolean;
  readonly now?: () => number;
  /** Operational notes (a sink down, an anchor written): never alert content beyond ids. */
  readonly onNotice?: (message: string) => void;
}

export interface RunSummary {
  readonly records: number;
  /** Ledger changes made (alerts opened, grown or closed). */
  readonly changes: number;
  readonly anchors: number;
  readonly position: ChainPosition;
}

/**
 * @throws MonitorError(MONITOR_QUEUE_FULL) after raising it as an alert on the other sinks and
 *   saving the state; MonitorError(MONITOR_SINK_FAILED) when `once` ends with a sink that keeps
 *   failing; MonitorError(MONITOR_STATE_INVALID | MONITOR_LOCKED); AuditError (an alert
 *   that cannot be recorded stops the monitor: it never delivers what it could not record).
 */
export async function runMonitor(o: RunMonitorOptions): Promise<RunSummary> {
  const { ks, config } = o;
  const now = o.now ?? Date.now;
  const notice = o.onNotice ?? (() => undefined);
  ensureMonitorTables(ks);
  ensureStateKey(ks, config.state.key);
  const source = o.source ?? localSource(ks);
  const release = lockState(config.state.file);
  try {
    const saved = await loadState(ks, config.state.file);
    if (saved !== null && (saved.source ?? "local") !== source.id) {
      throw new MonitorError(
        "MONITOR_STATE_INVALID",
        `the monitor state ${config.state.file} follows another audit (${saved.source ?? "local"}, not ${source.id}); give this monitor its own state.file`,
      );
    }
    const decoys = new DecoyWatch(saved?.decoys);
    const removedAtStart = decoys.refresh(listDecoys(ks));
    const engineOptions = () => ({ config, decoys: decoys.all, ...(o.learnUntilMs === undefined ? {} : { learnUntilMs: o.learnUntilMs }) });
    let engine = new MonitorEngine(engineOptions(), saved?.engine);
    let pos: ChainPosition = saved?.chain ?? { seq: 0, mac: null };
    let delivered = saved?.delivered ?? 0;
    // each sink resumes from its own watermark, so one that took more than another is not sent it again
    const channels = o.sinks.map(
      (s) => new SinkChannel(s.sink, { perMinute: s.perMinute, now, onNotice: notice }, Math.max(delivered, saved?.sinks?.[s.sink.name] ?? 0)),
    );
    let records = 0;
    let changes = 0;
    let anchorsWritten = 0;

    const offer = (c: { alert: Alert; changeNo: number }) => {
      for (const ch of channels) ch.offer(c);
    };
    // alerts are recorded together, once per poll (one commit), before any sink sees them
    const noted: Alert[] = [];
    const note = (a: Alert) => void noted.push(a);
    const record = () => {
      for (const c of noteAlerts(ks, noted.splice(0))) {
        if (c === null) continue;
        changes++;
        offer(c);
      }
    };
    // a growing alert is sent again at most once per updateEvery (critical ones at once); `all` at a stop
    const lastGrowth = new Map<string, number>();
    const handle = (events: readonly IncidentEvent[]) => {
      for (const e of events) {
        if (e.type === "open") lastGrowth.set(e.alert.id, now());
        if (e.type !== "suppressed") note(e.alert);
        else {
          const s = e.suppression;
          ks.auditedChange(
            {
              operation: "monitor.suppress",
              keyName: e.alert.key,
              objectPath: e.alert.id,
              context: { detection: e.alert.detection, subject: e.alert.principal, rule: String(s.index), reason: s.reason },
            },
            () => undefined,
          );
        }
      }
    };
    const integrity = (p: IntegrityProblem) =>
      note(
        healthAlert("audit-integrity", {
          principal: p.principal,
          key: p.key,
          seqs: p.seqs,
          anchorSeq: p.seq,
          subject: p.kind,
          timeMs: now(),
          summary: `The audit chain did not verify as the monitor followed it: ${p.detail}.`,
          evidence: { problem: p.kind, seq: p.seq },
        }),
      );

    const refreshDecoys = (gone = decoys.refresh(listDecoys(ks))) => {
      for (const d of gone) {
        note(
          healthAlert("audit-integrity", {
            principal: "unknown",
            key: d.key,
            seqs: [],
            anchorSeq: 0,
            subject: d.id,
            timeMs: now(),
            summary: `The decoy ${d.id} was removed from the honeytoken registry in keystore.db without the keystore (no audited change); the monitor keeps watching it.`,
            evidence: { problem: "decoy-removed", decoy: d.id },
          }),
        );
      }
      engine.setDecoys(decoys.all);
    };
    refreshDecoys(removedAtStart);

    // a ledger that ends before what the sinks took was rolled back with keystore.db: its numbers will be reused
    const rewind = () => {
      const top = lastChangeNo(ks);
      if (top >= Math.max(delivered, ...channels.map((c) => c.watermark()))) return;
      for (const ch of channels) ch.rewind(top);
      delivered = Math.min(delivered, top);
    };
    rewind();
    for (const c of changesAfter(ks, delivered)) offer(c); // what the sinks may not have taken before a stop or crash

    const anchors = o.anchors ? anchorWriter(ks, o.anchors.dir) : null;
    const anchor = async () => {
      const file = await anchors!.write();
      if (file === null) return;
      anchorsWritten++;
      notice(`wrote audit anchor ${file}`);
    };
    if (anchors) await anchor(); // at start; a folder that cannot be written fails the start
    let nextAnchor = anchors ? now() + o.anchors!.everyMs : Number.POSITIVE_INFINITY;
    let lastUpdates = now();
    const deferred = new Map<string, Alert>();
    const growth = (all: boolean) => {
      for (const a of engine.updates()) deferred.set(a.id, a);
      const t = now();
      for (const [id, a] of deferred) {
        if (!all && a.severity !== "critical" && t - (lastGrowth.get(id) ?? 0) < config.updateEverySeconds * 1000) continue;
        deferred.delete(id);
        lastGrowth.set(id, t);
        note(a);
      }
      for (const id of lastGrowth.keys()) if (t - lastGrowth.get(id)! > config.updateEverySeconds * 1000) lastGrowth.delete(id);
    };
    let lastSave = 0;
    let dirty = saved === null;
    let stopError: PipesealError | null = null;

    const pumpAll = async (): Promise<void> => {
      for (const ch of channels) {
        try {
          await ch.pump();
        } catch (e) {
          if (!isPipesealError(e) || e.code !== "MONITOR_QUEUE_FULL") throw e;
          // a full queue is itself an alert (on the other sinks), then a stop with a non-zero status
          record();
          note(
            healthAlert("sink-queue-full", {
              principal: ch.sink.name,
              seqs: [],
              anchorSeq: pos.seq,
              timeMs: now(),
              summary: `The ${ch.sink.name} has not taken alerts for a while and its queue is full; the monitor stopped so that no alert is dropped.`,
              evidence: { sink: ch.sink.name, pending: ch.pending },
            }),
          );
          record();
          for (const other of channels) if (other !== ch) await other.pump().catch(() => undefined);
          stopError = e;
          return;
        }
      }
    };
    const watermark = () => (channels.length === 0 ? lastChangeNo(ks) : Math.min(...channels.map((c) => c.watermark())));
    const save = async () => {
      delivered = watermark();
      await saveState(ks, config.state.file, config.state.key, {
        version: 1,
        source: source.id,
        engine: engine.toState(),
        chain: pos,
        delivered,
        sinks: Object.fromEntries(channels.map((c) => [c.sink.name, c.watermark()])),
        decoys: decoys.toJSON(),
      });
      lastSave = now();
      dirty = false;
    };

    await source.start(pos);
    while (!o.signal.aborted && stopError === null) {
      const page = await source.read(pos, PAGE);
      for (const p of page.problems) integrity(p);
      for (const r of page.records) {
        if (r.operation === "honeytoken.plant" && r.outcome === "ok") refreshDecoys(); // a decoy planted while running is watched from its plant on
        handle(engine.push(r));
      }
      if (page.problems.some((p) => p.kind === "rolled-back")) rewind();
      if (page.problems.some((p) => p.kind === "rolled-back")) engine = new MonitorEngine(engineOptions(), { ...engine.toState(), lastSeq: page.pos.seq }); // follow the chain from where it now ends
      if (page.pos.seq !== pos.seq || page.problems.length > 0) dirty = true;
      pos = page.pos;
      records += page.records.length;
      if (page.records.length === 0) handle(engine.flush(now()));
      growth(false);
      if (now() - lastUpdates >= config.updateEverySeconds * 1000) {
        refreshDecoys();
        lastUpdates = now();
      }
      record();
      const before = watermark();
      await pumpAll();
      if (watermark() !== before || watermark() !== delivered) dirty = true;
      if (now() >= nextAnchor) {
        await anchor().catch((e: Error) => notice(`audit anchor not written (retrying in ${o.anchors!.everyMs / 1000} s): ${e.message}`));
        nextAnchor = now() + o.anchors!.everyMs;
      }
      if (dirty && now() - lastSave >= SAVE_EVERY_MS) await save();
      if (!page.caughtUp) continue; // catching up: no pause
      if (o.once && page.records.length === 0 && page.atEnd) {
        if (channels.every((c) => c.pending === 0)) break;
        const stuck = channels.filter((c) => c.pending > 0);
        if (stuck.every((c) => c.failures >= ONCE_MAX_FAILURES)) {
          stopError = new MonitorError(
            "MONITOR_SINK_FAILED",
            `${stuck.map((c) => c.sink.name).join(", ")} did not take ${Math.max(...stuck.map((c) => c.pending))} alert(s) after ${ONCE_MAX_FAILURES} attempts; they stay owed and are sent by the next run`,
          );
          break;
        }
      }
      await source.wait(config.pollMs, o.signal);
    }
    if (stopError === null) {
      growth(true);
      record();
      await pumpAll();
    }
    await Promise.all(channels.map((c) => c.sink.close().catch((e: Error) => notice(`${c.sink.name}: close failed (${e.message})`))));
    await save();
    if (anchors) await anchor().catch((e: Error) => notice(`audit anchor not written at stop: ${e.message}`)); // the head as the monitor leaves it
    if (stopError !== null) throw stopError;
    return { records, changes, anchors: anchorsWritten, position: pos };
  } finally {
    await source.close();
    release();
  }
}
