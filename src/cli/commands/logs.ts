import { createInterface } from "node:readline";
import { Command, Option } from "commander";
import { UsageError } from "../../errors.js";
import { writeAtomic } from "../../io/atomic.js";
import { onStopSignal } from "../../io/signals.js";
import { createLogSink, pruneLogs, readLogs, type LogClass, type LogReadEvent, type PrunePlan } from "../../logs/index.js";
import { parseDuration } from "../../io/duration.js";
import { refuseOverwrite, toStdout } from "../output.js";
import { confirmDestructive } from "../confirm.js";
import { emit, withKeystore } from "../session.js";
import { parseSize } from "../../io/size.js";

const ms = (text: string) => parseDuration(text) * 1000;

function logClass(text: string | undefined): LogClass | undefined {
  if (text === undefined) return undefined;
  if (text !== "payload" && text !== "metadata") throw new UsageError("INVALID_ARGUMENT", `--class takes payload or metadata (got "${text}")`);
  return text;
}

/** `--class` of read and prune; `--stream` there once meant a class and now only names a log (`logs write`). */
function selectedClass(opts: { class?: string; stream?: string }): LogClass | undefined {
  if (opts.stream !== undefined)
    throw new UsageError("INVALID_ARGUMENT", "--stream names a log in `logs write`; to select records by class use --class payload|metadata");
  return logClass(opts.class);
}

/** The old spelling, refused with a pointer to `--class` (hidden from help). */
const oldStreamOption = () => new Option("--stream <class>").hideHelp();

function describePlan(plan: PrunePlan, dryRun: boolean): string {
  const verb = dryRun ? "would" : "did";
  const lines = [
    ...plan.rotate.map((r) => `${verb} rotate ${r.keyName} (away from v${r.fromVersion})`),
    ...plan.destroy.map((d) => `${verb} destroy ${d.keyName} v${d.version} (shreds ${d.files.length} file(s))`),
    ...plan.delete.map((f) => `${verb} delete ${f}`),
    ...plan.kept.map((k) => `kept ${k.file}: ${k.reason}`),
  ];
  return lines.length ? lines.join("\n") : "nothing to prune";
}

async function* jsonLines(
  events: AsyncIterable<LogReadEvent>,
  summary: { records: number; segments: Set<string>; shredded: { file: string; keyName: string; keyVersion: number }[] },
): AsyncGenerator<Buffer> {
  for await (const e of events) {
    if (e.type === "shredded") {
      summary.shredded.push({ file: e.file, keyName: e.keyName, keyVersion: e.keyVersion });
      process.stderr.write(`pipeseal: ${e.file}: shredded (${e.keyName} v${e.keyVersion} was destroyed)\n`);
      continue;
    }
    summary.records++;
    summary.segments.add(e.file);
    yield Buffer.from(e.line + "\n", "utf8");
  }
}

interface WriteOptions {
  key: string;
  stream?: string;
  class?: string;
  routeField: string;
  maxBytes?: string;
  maxAge?: string;
  bucket?: string;
  payloadRetention?: string;
  metadataRetention?: string;
  json?: boolean;
}
interface ReadOptions {
  since?: string;
  class?: string;
  stream?: string;
  output: string;
  force?: boolean;
  json?: boolean;
}
interface PruneOptions {
  olderThan?: string;
  class?: string;
  stream?: string;
  dryRun?: boolean;
  yes?: boolean;
  json?: boolean;
}

export function logsCommand(): Command {
  const logs = new Command("logs").description("encrypted log sinks: write, read and crypto-shredding prune (docs/logs.md)");
  logs
    .command("write <dir>")
    .description("seal JSON lines from stdin into rotated log segments (`app | pipeseal logs write DIR --key logs/app`)")
    .requiredOption("--key <name>", "base key name; uses <name>/payload and <name>/metadata (created if missing)")
    .option("--stream <name>", "the log's name bound into every segment (default: the key name's last part)")
    .option("--class <class>", "put every record in this class (payload|metadata) instead of routing by --route-field")
    .option("--route-field <field>", "record field naming the class; other values and plain-text lines go to payload", "class")
    .option("--max-bytes <size>", "close a segment at this much plaintext, e.g. 8m")
    .option("--max-age <duration>", "close a segment at this age, e.g. 1h")
    .option("--bucket <duration>", "key-version bucket, the unit of shredding (default 1d)")
    .option("--payload-retention <duration>", "retention for payload (default 7d)")
    .option("--metadata-retention <duration>", "retention for metadata (default 90d)")
    .option("--json", "print a summary as JSON")
    .action(async (dir: string, opts: WriteOptions, cmd: Command) =>
      withKeystore(cmd, async (ks) => {
        const cls = logClass(opts.class);
        const retention = {
          ...(opts.payloadRetention ? { payload: ms(opts.payloadRetention) } : {}),
          ...(opts.metadataRetention ? { metadata: ms(opts.metadataRetention) } : {}),
        };
        const sink = await createLogSink(ks, {
          dir,
          keyName: opts.key,
          ...(opts.stream ? { stream: opts.stream } : {}),
          rotate: { ...(opts.maxBytes ? { maxBytes: parseSize(opts.maxBytes) } : {}), ...(opts.maxAge ? { maxAgeMs: ms(opts.maxAge) } : {}) },
          retention,
          ...(opts.bucket ? { bucketMs: ms(opts.bucket) } : {}),
          classification: cls ?? { field: opts.routeField },
        });
        // a stop signal: close the open segments so nothing written so far is lost
        onStopSignal(
          () =>
            void sink.close().then(
              () => process.exit(0),
              () => process.exit(1),
            ),
        );
        let records = 0;
        try {
          for await (const line of createInterface({ input: process.stdin, crlfDelay: Infinity })) {
            if (line.trim() === "") continue;
            await sink.writeLine(line);
            records++;
          }
        } finally {
          await sink.close();
        }
        emit(
          cmd,
          { dir: sink.dir, records, segments: sink.closedSegments },
          () => `sealed ${records} record(s) into ${sink.closedSegments.length} segment(s) in ${sink.dir}`,
        );
      }),
    );
  logs
    .command("read <dir>")
    .description("decrypt a log folder's segments in order (each open is an audited unwrap) and print JSON lines")
    .option("--since <duration>", "only records from the last DURATION, e.g. 1h (segments by bucket, records by their `time`)")
    .option("--class <class>", "only payload or metadata records")
    .addOption(oldStreamOption())
    .option("-o, --output <path>", "output file (written atomically, mode 0600), or - for stdout", "-")
    .option("-f, --force", "replace an existing --output file")
    .option("--json", "print a summary as JSON on stderr (stdout carries the records)")
    .action(async (dir: string, opts: ReadOptions, cmd: Command) =>
      withKeystore(cmd, async (ks) => {
        if (opts.output !== "-") await refuseOverwrite(opts.output, opts.force);
        const cls = selectedClass(opts);
        const summary = { records: 0, segments: new Set<string>(), shredded: [] as { file: string; keyName: string; keyVersion: number }[] };
        const events = readLogs(ks, dir, { ...(opts.since ? { since: Date.now() - ms(opts.since) } : {}), ...(cls ? { classes: [cls] } : {}) });
        if (opts.output === "-") await toStdout(jsonLines(events, summary));
        else await writeAtomic(opts.output, jsonLines(events, summary), 0o600);
        if (opts.json) process.stderr.write(JSON.stringify({ records: summary.records, segments: summary.segments.size, shredded: summary.shredded }) + "\n");
      }),
    );
  logs
    .command("prune <dir>")
    .description("crypto-shred expired segments: destroy their key versions (every copy becomes unreadable), then delete the files")
    .option("--older-than <duration>", "retention for the selected classes, e.g. 7d (default: each class's retention in log.json)")
    .option("--class <class>", "only payload or metadata segments")
    .addOption(oldStreamOption())
    .option("--dry-run", "print the plan and change nothing")
    .option("-y, --yes", "do not ask for confirmation on a terminal")
    .option("--json", "print the plan as JSON")
    .action(async (dir: string, opts: PruneOptions, cmd: Command) => {
      const cls = selectedClass(opts);
      await withKeystore(cmd, async (ks) => {
        const base = { ...(opts.olderThan ? { olderThanMs: ms(opts.olderThan) } : {}), ...(cls ? { classes: [cls] } : {}) };
        const preview = await pruneLogs(ks, dir, { ...base, dryRun: true });
        if (!opts.dryRun && preview.plan.destroy.length > 0 && !opts.yes) {
          if (process.stderr.isTTY) process.stderr.write(describePlan(preview.plan, true) + "\n");
          const question = "Destroying these key versions makes every copy of those segments unreadable. Type 'shred' to confirm: ";
          await confirmDestructive({ yes: opts.yes, question, expected: "shred", nothing: "nothing was pruned (--dry-run shows the plan)" });
        }
        const result = opts.dryRun
          ? preview
          : await pruneLogs(ks, dir, {
              ...base,
              record: (plan, root) =>
                ks.auditedChange(
                  {
                    operation: "logs.prune",
                    objectPath: root,
                    context: {
                      destroyed: plan.destroy.map((d) => `${d.keyName}@v${d.version}`).join(","),
                      deleted: String(plan.delete.length),
                      rotated: plan.rotate.map((r) => r.keyName).join(","),
                    },
                  },
                  () => undefined,
                ),
            });
        emit(cmd, result, () => describePlan(result.plan, result.dryRun));
      });
    });
  return logs;
}
