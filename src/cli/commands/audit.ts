import { Command } from "commander";
import { AuditError } from "../../errors.js";
import { parseDuration } from "../duration.js";
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
              [r.seq, r.time, r.principal, r.operation, r.keyName ? `${r.keyName}${r.keyVersion ? " v" + r.keyVersion : ""}` : "-", r.outcome + (r.errorCode ? `(${r.errorCode})` : ""), r.objectPath ?? ""].join("  "),
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
          result.ok ? `audit chain ok: ${result.records} records` : result.problems.map((p) => `record ${p.seq}: ${p.kind}${p.detail ? " (" + p.detail + ")" : ""}`).join("\n"),
        );
        if (!result.ok) throw new AuditError("AUDIT_CHAIN_BROKEN", `audit chain broken: ${result.problems.length} problem(s), first at record ${result.problems[0]?.seq}`);
      }),
    );
  return audit;
}
