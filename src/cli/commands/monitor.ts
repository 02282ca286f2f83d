import { createReadStream } from "node:fs";
import path from "node:path";
import { Command } from "commander";
import { checkAudit } from "../../monitor/check.js";
import { loadMonitorConfig } from "../../monitor/load-config.js";
import { runMonitor } from "../../monitor/live/run.js";
import { buildSinks } from "../../monitor/sinks/build.js";
import { ackAlert, ensureMonitorTables, listAlerts } from "../../monitor/store/alerts.js";
import { formatStoredAlerts } from "../../monitor/store/format.js";
import { formatAlerts } from "../../monitor/table.js";
import { UsageError } from "../../errors.js";
import { parseDuration } from "../../io/duration.js";
import { onStopSignal } from "../../io/signals.js";
import { EXIT } from "../exit-codes.js";
import { printable, printableLines } from "../output.js";
import { emit, keystoreHome, openLocalKeystore, remoteKeyring, serverGiven, withKeystore } from "../session.js";
import type { RemoteKeyring } from "../../client/remote-keyring.js";
import type { LocalKeystore } from "../../keys/keystore.js";
import { remoteSource } from "../../monitor/live/remote-source.js";

function parseIso(text: string | undefined, flag: string): number | undefined {
  if (text === undefined) return undefined;
  const ms = /^\d{4}-\d\d-\d\dT/.test(text) ? Date.parse(text) : NaN;
  if (!Number.isFinite(ms)) throw new UsageError("INVALID_ARGUMENT", `${flag} takes an ISO 8601 time such as 2026-10-26T00:00:00Z`);
  return ms;
}

interface CheckFlags {
  audit: string;
  config?: string;
  learnUntil?: string;
  json?: boolean;
}
interface AlertsFlags {
  since?: string;
  open?: boolean;
  json?: boolean;
}
interface AckFlags {
  note: string;
  json?: boolean;
}
interface RunFlags {
  config?: string;
  anchorEvery?: string;
  anchorDir?: string;
  learnUntil?: string;
  once?: boolean;
}

/** Where the key service's own anchors are set: its keyservice.yaml (src/server/config.ts `audit`). */
const SERVICE_ANCHORS = "with --server the key service anchors its own audit (`audit: { anchorEvery: 1h, anchorDir: <folder> }` in its keyservice.yaml)";

/**
 * `monitor run`: over the local keystore's audit, or (kr) the key service's follow stream.
 * Either way `ks` (this host's keystore, --home) holds the state key, the alert ledger and the
 * sinks' sealed queues: the monitor's own records, apart from the audit it watches.
 */
async function runLive(ks: LocalKeystore, opts: RunFlags, kr?: RemoteKeyring): Promise<void> {
  const config = loadMonitorConfig(opts.config);
  const learnUntilMs = parseIso(opts.learnUntil, "--learn-until");
  const everySeconds = opts.anchorEvery !== undefined ? parseDuration(opts.anchorEvery) : kr ? undefined : config.anchors?.everySeconds;
  const dir = opts.anchorDir !== undefined ? path.resolve(opts.anchorDir) : config.anchors?.dir;
  if (opts.anchorDir !== undefined && everySeconds === undefined)
    throw new UsageError("INVALID_ARGUMENT", "--anchor-dir goes with --anchor-every (or anchors.every in monitor.yaml)");
  if (everySeconds !== undefined && dir === undefined)
    throw new UsageError("INVALID_ARGUMENT", "--anchor-every needs --anchor-dir DIR (or anchors.dir in monitor.yaml): a folder outside the keystore");
  const notice = (m: string) => void process.stderr.write(`pipeseal: monitor: ${printable(m)}\n`);
  // said, not silently dropped: the audit followed is the service's, and only the service can sign its head
  if (kr && config.anchors) notice(`anchors: in monitor.yaml is for the local keystore's audit; ${SERVICE_ANCHORS}`);
  const sinks = await buildSinks(config.sinks, ks, config.state.key, notice);
  const ac = new AbortController();
  const release = onStopSignal(() => ac.abort());
  try {
    const s = await runMonitor({
      ks,
      config,
      ...(kr ? { source: remoteSource(kr, { onNotice: notice }) } : {}),
      sinks: sinks.map((sink, i) => ({ sink, perMinute: config.sinks[i].perMinute })),
      signal: ac.signal,
      anchors: everySeconds !== undefined && dir !== undefined ? { everyMs: everySeconds * 1000, dir } : null,
      ...(learnUntilMs === undefined ? {} : { learnUntilMs }),
      once: opts.once === true,
      onNotice: notice,
    });
    process.stderr.write(
      `pipeseal: monitor stopped at ${kr ? "the key service's " : ""}audit record ${s.position.seq}: ${s.records} record(s) read, ${s.changes} alert change(s)${s.anchors ? `, ${s.anchors} anchor(s)` : ""}\n`,
    );
  } finally {
    release();
  }
}

/**
 * `monitor alerts`/`ack` work on this host's alert ledger (--home), with or without --server:
 * `monitor run --server` keeps its ledger there too (the key service keeps no alerts), so the
 * same `--server URL --cert DIR` prefix works for the whole monitor. Nothing is sent to the service.
 */
async function withLedger<T>(cmd: Command, run: (ks: LocalKeystore) => Promise<T> | T): Promise<T> {
  if (!serverGiven(cmd)) return withKeystore(cmd, async (ks) => run(ks));
  const ks = await openLocalKeystore(keystoreHome(cmd));
  try {
    return await run(ks);
  } finally {
    ks.close();
  }
}

export function monitorCommand(): Command {
  const monitor = new Command("monitor").description("learned baselines and alerts over the audit stream (docs/monitor.md)");
  monitor
    .command("check")
    .description("offline: learn from an audit export, then evaluate the rest in order; exit 8 when there are alerts")
    .requiredOption("--audit <file>", "pipeseal.audit.v1 JSON lines (`pipeseal audit export`), or - for stdin")
    .option("--config <file>", "monitor.yaml (default: every default)")
    .option("--learn-until <iso>", "learn from records before this time (default: the first learn.days)")
    .option("--json", "one alert per line (pipeseal.alert.v1)")
    .action(async (opts: CheckFlags) => {
      const config = loadMonitorConfig(opts.config);
      const learnUntilMs = parseIso(opts.learnUntil, "--learn-until");
      const source = opts.audit === "-" ? process.stdin : createReadStream(opts.audit, { highWaterMark: 1 << 20 });
      const result = await checkAudit(source, { config, ...(learnUntilMs === undefined ? {} : { learnUntilMs }) });
      if (opts.json) process.stdout.write(result.alerts.map((a) => JSON.stringify(a) + "\n").join(""));
      else process.stdout.write(formatAlerts(result.alerts) + "\n");
      if (result.suppressed.length > 0) process.stderr.write(`${result.suppressed.length} incident(s) silenced by suppressions\n`);
      if (result.alerts.length > 0) process.exitCode = EXIT.findings;
    });
  monitor
    .command("run")
    .description(
      "live: follow the audit as it commits (the local keystore's, or with --server the key service's) and send alerts to the sinks of monitor.yaml; stops cleanly on SIGINT/SIGTERM",
    )
    .option("--config <file>", "monitor.yaml (default: every default: alerts as JSON lines on stdout)")
    .option("--anchor-every <duration>", "also write a signed audit anchor this often (e.g. 1h) into --anchor-dir or anchors.dir")
    .option("--anchor-dir <dir>", "folder for the anchors, outside the keystore")
    .option("--learn-until <iso>", "first run only (no state file yet): learn from records before this time")
    .option("--once", "stop once the audit is read to its end and the sinks took their alerts (cron, tests)")
    .action(async (opts: RunFlags, cmd: Command) => {
      const kr = await remoteKeyring(cmd);
      if (!kr) return withKeystore(cmd, (ks) => runLive(ks, opts));
      try {
        // the key service writes its own anchors (keyservice.yaml `audit:`); this host's keystore holds only the monitor's state
        if (opts.anchorEvery !== undefined || opts.anchorDir !== undefined)
          throw new UsageError("INVALID_ARGUMENT", `--anchor-every and --anchor-dir are for the local keystore's audit; ${SERVICE_ANCHORS}`);
        const ks = await openLocalKeystore(keystoreHome(cmd));
        try {
          await runLive(ks, opts, kr);
        } finally {
          ks.close();
        }
      } finally {
        await kr.close();
      }
    });
  monitor
    .command("alerts")
    .description("the alerts `monitor run` raised (kept in the keystore), oldest first, with their acks")
    .option("--since <duration>", "only alerts active within this period, e.g. 24h, 7d")
    .option("--open", "only alerts nobody acknowledged yet")
    .option("--json", "one alert per line (pipeseal.alert.v1, plus revision and ack)")
    .action(async (opts: AlertsFlags, cmd: Command) =>
      withLedger(cmd, (ks) => {
        ensureMonitorTables(ks);
        const items = listAlerts(ks, { ...(opts.since ? { sinceMs: Date.now() - parseDuration(opts.since) * 1000 } : {}), unacked: opts.open === true });
        if (opts.json) process.stdout.write(items.map((s) => JSON.stringify({ ...s.alert, revision: s.revision, ack: s.ack }) + "\n").join(""));
        else process.stdout.write(printableLines(formatStoredAlerts(items)) + "\n");
      }),
    );
  monitor
    .command("ack")
    .description("acknowledge an alert with a note (audited as monitor.ack); posture stops counting it as open")
    .argument("<alert-id>", "al_… from `pipeseal monitor alerts`")
    .requiredOption("--note <text>", 'why it is fine or what was done, e.g. "expected backfill"')
    .option("--json", "print the acknowledged alert as JSON")
    .action(async (id: string, opts: AckFlags, cmd: Command) =>
      withLedger(cmd, (ks) => {
        ensureMonitorTables(ks);
        const s = ackAlert(ks, id, opts.note);
        emit(
          cmd,
          { ...s.alert, revision: s.revision, ack: s.ack },
          () => `acknowledged ${s.alert.id} (${s.alert.detection}, ${printable(s.alert.principal)}${s.alert.key ? " on " + printable(s.alert.key) : ""})`,
        );
      }),
    );
  return monitor;
}
