/**
 * Monitoring: the decrypt monitor follows the audit from the start of the run (in this process,
 * over the same keystore; alerts go to its ledger in keystore.db and to monitor/alerts.jsonl),
 * learning what the pipeline's identities normally do. At the end the demo plays one incident:
 * a decoy shard (a honeytoken of fake rows, sealed under a real key, named like real data) sits
 * in the training store, and a rogue identity the gateway admits opens it. The honeytoken
 * alert, critical and never suppressible, must name the rogue identity within seconds.
 */
import { mkdirSync } from "node:fs";
import path from "node:path";
import { createMtlsDispatcher, mtlsFetch } from "../pki/index.js";
import { defaultMonitorConfig, type MonitorConfig } from "../monitor/index.js";
import { plantDecoy } from "../monitor/honeytoken/plant.js";
import { fileSink } from "../monitor/sinks/lines.js";
import { listAlerts } from "../monitor/store/alerts.js";
import { remoteSource } from "../monitor/live/remote-source.js";
import { runMonitor } from "../monitor/live/run.js";
import { type Demo, check, shown, spiffe } from "./context.js";
import { KEYS } from "./keys.js";

/** The decoy, inside the gateway's root (stores/training), looking like an old export. */
export const DECOY = "archive/customers-2024-q4.csv";
export const ROGUE = "trainer-rogue";
/** How long the alert may take to appear. */
const ALERT_WITHIN_MS = 10_000;

export function monitorConfig(d: Demo): MonitorConfig {
  const base = defaultMonitorConfig(d.dir.monitor);
  return {
    ...base,
    honeytokens: { keys: [KEYS.decoy], objects: [], contexts: {} },
    state: { file: path.join(d.dir.monitor, "monitor.state.pseal"), key: "monitor/state" },
    sinks: [{ kind: "file", path: path.join(d.dir.monitor, "alerts.jsonl"), perMinute: 600 }],
    pollMs: 100,
  };
}

/** Starts the monitor in the background (stopped by the runner like a server). */
export async function startMonitor(d: Demo): Promise<void> {
  mkdirSync(d.dir.monitor, { recursive: true, mode: 0o700 });
  const config = monitorConfig(d);
  const ac = new AbortController();
  const notices: string[] = [];
  // with --service the monitor follows the key service's audit as the auditor; only the service anchors its own head
  const remote = d.service ? remoteSource(await d.service.as("auditor")) : null;
  const running = runMonitor({
    ks: d.ks,
    ...(remote ? { source: remote } : {}),
    config,
    sinks: [{ sink: fileSink(path.join(d.dir.monitor, "alerts.jsonl")), perMinute: 600 }],
    signal: ac.signal,
    anchors: remote ? null : { everyMs: 3600_000, dir: path.join(d.dir.monitor, "anchors") },
    onNotice: (m) => void notices.push(m),
  });
  let failure: unknown = null;
  running.catch((e: unknown) => (failure = e));
  d.facts.monitorFailure = () => failure;
  d.started({
    name: "monitor",
    stop: async () => {
      ac.abort();
      await running.catch(() => undefined);
    },
  });
  d.say(
    `decrypt monitor following ${remote ? `the key service's audit (GET /v1/audit/follow as ${spiffe(d, "auditor")})` : "the audit"} (learning baselines; honeytokens checked from the first record), alerts → ${shown(path.join(d.dir.monitor, "alerts.jsonl"))} and the ledger`,
  );
}

export async function monitorStage(d: Demo): Promise<void> {
  const failure = (d.facts.monitorFailure as (() => unknown) | undefined)?.();
  check(failure === null, `monitor: it stopped during the run (${failure instanceof Error ? failure.message : String(failure)})`);
  const file = path.join(d.dir.training, DECOY + ".pseal");
  // sealed where the real archive's key lives (the key service with --service), recorded in the keystore's decoy registry
  const decoy = await plantDecoy(
    d.ks,
    { key: KEYS.decoy, out: file, rows: 200, context: { stage: "training", dataset: "customers-archive" } },
    await d.data("etl"),
  );
  d.say(`honeytoken planted: stores/training/${DECOY}.pseal, 200 fake rows sealed under ${KEYS.decoy}; only keystore.db knows it is a decoy`);

  const rogue = spiffe(d, ROGUE);
  const gatewayUrl = d.facts.gatewayUrl as string;
  const client = createMtlsDispatcher({ certDir: d.dir.certs(ROGUE), expect: [spiffe(d, "gateway")], servername: "localhost" });
  const t0 = Date.now();
  try {
    const res = await mtlsFetch(client, `${gatewayUrl}/${DECOY}`, { headers: { range: "bytes=0-511" } });
    check(res.status === 200 || res.status === 206, `monitor: the rogue's read through the gateway answered ${res.status}`);
    await res.arrayBuffer();
  } finally {
    await client.close();
  }
  d.say(`incident: ${rogue} (a valid certificate the gateway admits) opened the decoy through the gateway`);

  let alert = null;
  while (Date.now() - t0 < ALERT_WITHIN_MS) {
    alert =
      listAlerts(d.ks)
        .map((s) => s.alert)
        .find((a) => a.detection === "honeytoken" && a.principal === rogue) ?? null;
    if (alert) break;
    await new Promise((r) => setTimeout(r, 100));
  }
  check(alert, `monitor: no honeytoken alert naming ${rogue} within ${ALERT_WITHIN_MS / 1000} s`);
  const ms = Date.now() - t0;
  d.facts.alert = `${alert.severity} ${alert.detection} ${alert.id}: ${alert.principal} opened decoy ${decoy.id} under ${alert.key} (seq ${alert.seqs.join(",")}), raised ${ms} ms after the read`;
  d.facts.alertId = alert.id;
  d.facts.rogue = rogue;
  d.facts.decoyId = decoy.id;
  d.say(`ALERT ${alert.severity} ${alert.detection} after ${ms} ms: ${alert.summary}`);
  d.row({
    stage: "monitoring",
    atRest: "alerts in the audited ledger; state sealed",
    inTransit: "gateway audits every read by identity",
    inUse: `honeytoken alert in ${ms} ms`,
  });
}
