import { Readable } from "node:stream";
import { pipeline } from "node:stream/promises";
import path from "node:path";
import { Command } from "commander";
import { exportLocalAudit } from "../../audit/export-local.js";
import { RemoteKeyring } from "../../client/remote-keyring.js";
import { AuditError, UsageError } from "../../errors.js";
import { writeAtomic } from "../../io/atomic.js";
import { parseDuration } from "../duration.js";
import { printable } from "../output.js";
import { emit, withKeyring } from "../session.js";

export function auditCommand(): Command {
  const audit = new Command("audit").description("read and verify the tamper-evident audit log");
  audit
    .command("list")
    .description("audit records, oldest first")
    .option("--since <duration>", "only records newer than this, e.g. 1h, 7d")
    .option("--limit <n>", "at most n records (the newest)")
    .option("--json", "print as JSON")
    .action(async (opts, cmd: Command) =>
      withKeyring(cmd, async (ks) => {
        const records = await ks.listAudit({
          ...(opts.since ? { sinceMs: Date.now() - parseDuration(opts.since) * 1000 } : {}),
          ...(opts.limit ? { limit: Number(opts.limit) } : {}),
        });
        emit(cmd, records, () =>
          records
            .map((r) =>
              // every field but seq may come from a client (the service records the object path it is given)
              [r.seq, printable(r.time), printable(r.principal), printable(r.operation), r.keyName ? `${printable(r.keyName)}${r.keyVersion ? " v" + r.keyVersion : ""}` : "-", printable(r.outcome) + (r.errorCode ? `(${printable(r.errorCode)})` : ""), r.objectPath === null ? "" : printable(r.objectPath)].join("  "),
            )
            .join("\n") || "no audit records",
        );
      }),
    );
  audit
    .command("verify")
    .description("check the hash chain; exits non-zero and names the record if anything was modified, deleted, inserted or reordered")
    .option("--json", "print as JSON")
    .action(async (_o, cmd: Command) =>
      withKeyring(cmd, async (ks) => {
        const result = await ks.verifyAudit();
        emit(cmd, result, () =>
          result.ok ? `audit chain ok: ${result.records} records` : result.problems.map((p) => `record ${p.seq}: ${p.kind}${p.detail ? " (" + printable(p.detail) + ")" : ""}`).join("\n"),
        );
        if (!result.ok) throw new AuditError("AUDIT_CHAIN_BROKEN", `audit chain broken: ${result.problems.length} problem(s), first at record ${result.problems[0]?.seq}`);
      }),
    );
  audit
    .command("export")
    .description("the audit log as JSON lines for a SIEM (schema pipeseal.audit.v1, docs/keyservice.md); the export is itself audited")
    .option("--since <duration>", "only records newer than this, e.g. 1h, 7d")
    .option("--after-seq <n>", "only records after this seq (resume from the last seq a SIEM stored)")
    .option("-o, --output <file>", "write here atomically (whole or not at all) instead of stdout")
    .action(async (opts, cmd: Command) =>
      withKeyring(cmd, async (ks) => {
        const options = {
          ...(opts.since ? { sinceMs: Date.now() - parseDuration(opts.since) * 1000 } : {}),
          ...(opts.afterSeq === undefined ? {} : { afterSeq: parseSeq(opts.afterSeq) }),
        };
        const lines = ks instanceof RemoteKeyring ? ks.exportAudit(options) : exportLocalAudit(ks, options);
        const bytes = (async function* () {
          for await (const line of lines) yield Buffer.from(line, "utf8");
        })();
        // a failed or cut-short export leaves no file (and the old one, if any, untouched)
        if (opts.output) await writeAtomic(path.resolve(opts.output), bytes);
        else await pipeline(Readable.from(bytes), process.stdout, { end: false });
      }),
    );
  return audit;
}

/** @throws UsageError(INVALID_ARGUMENT) unless a non-negative integer */
function parseSeq(text: string): number {
  if (!/^[0-9]{1,15}$/.test(text)) throw new UsageError("INVALID_ARGUMENT", `--after-seq must be a non-negative integer, not "${text.slice(0, 20)}"`);
  return Number(text);
}
