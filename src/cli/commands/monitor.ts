import { createReadStream } from "node:fs";
import { Command } from "commander";
import { checkAudit } from "../../monitor/check.js";
import { loadMonitorConfig } from "../../monitor/load-config.js";
import { formatAlerts } from "../../monitor/table.js";
import { UsageError } from "../../errors.js";
import { EXIT } from "../exit-codes.js";

export function monitorCommand(): Command {
  const monitor = new Command("monitor").description("learned baselines and alerts over the audit stream (docs/monitor.md)");
  monitor
    .command("check")
    .description("offline: learn from an audit export, then evaluate the rest in order; exit 8 when there are alerts")
    .requiredOption("--audit <file>", "pipeseal.audit.v1 JSON lines (`pipeseal audit export`), or - for stdin")
    .option("--config <file>", "monitor.yaml (default: every default)")
    .option("--learn-until <iso>", "learn from records before this time (default: the first learn.days)")
    .option("--json", "one alert per line (pipeseal.alert.v1)")
    .action(async (opts) => {
      const config = loadMonitorConfig(opts.config);
      let learnUntilMs: number | undefined;
      if (opts.learnUntil !== undefined) {
        learnUntilMs = /^\d{4}-\d\d-\d\dT/.test(opts.learnUntil) ? Date.parse(opts.learnUntil) : NaN;
        if (!Number.isFinite(learnUntilMs)) throw new UsageError("INVALID_ARGUMENT", `--learn-until takes an ISO 8601 time such as 2026-10-26T00:00:00Z`);
      }
      const source = opts.audit === "-" ? process.stdin : createReadStream(opts.audit, { highWaterMark: 1 << 20 });
      const result = await checkAudit(source, { config, ...(learnUntilMs === undefined ? {} : { learnUntilMs }) });
      if (opts.json) process.stdout.write(result.alerts.map((a) => JSON.stringify(a) + "\n").join(""));
      else process.stdout.write(formatAlerts(result.alerts) + "\n");
      if (result.suppressed.length > 0) process.stderr.write(`${result.suppressed.length} incident(s) silenced by suppressions\n`);
      if (result.alerts.length > 0) process.exitCode = EXIT.findings;
    });
  return monitor;
}
