/**
 * `monitor check`: an offline run over an export. Learns from the records before the cutoff,
 * evaluates the rest in order as the live monitor would have seen them, and returns every
 * alert in its final (closed) form, in the order of its first record.
 *
 * @example
 * const { alerts } = await checkAudit(createReadStream("audit.jsonl"), { config, learnUntilMs });
 */
import type { EngineOptions } from "./engine.js";
import { MonitorEngine } from "./engine.js";
import { AuditLineReader } from "./parse.js";
import type { Alert, MonitorRecord } from "./types.js";

export interface CheckResult {
  readonly alerts: Alert[];
  readonly records: number;
  /** Incidents a suppression rule silenced, with the rule's reason. */
  readonly suppressed: { readonly alert: Alert; readonly reason: string }[];
  readonly learnUntilMs: number | undefined;
}

/** @throws MonitorError(MONITOR_INPUT_INVALID) naming the first malformed line. */
export async function checkAudit(source: AsyncIterable<Buffer | string>, options: EngineOptions): Promise<CheckResult> {
  const engine = new MonitorEngine(options);
  const alerts: Alert[] = [];
  const suppressed: CheckResult["suppressed"] = [];
  let records = 0;
  const take = (events: ReturnType<MonitorEngine["push"]>) => {
    for (const e of events) {
      if (e.type === "close") alerts.push(e.alert);
      else if (e.type === "suppressed") suppressed.push({ alert: e.alert, reason: e.suppression.reason });
    }
  };
  // a chunk's records in one synchronous loop: no promise and no array per record
  const reader = new AuditLineReader();
  const each = (r: MonitorRecord) => {
    records++;
    const events = engine.push(r);
    if (events.length > 0) take(events);
  };
  for await (const chunk of source) reader.push(chunk, each);
  reader.end(each);
  take(engine.finish());
  alerts.sort((a, b) => (a.seqs[0] ?? 0) - (b.seqs[0] ?? 0));
  return { alerts, records, suppressed, learnUntilMs: engine.learnUntilMs };
}
