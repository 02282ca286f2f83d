import { Readable } from "node:stream";
import { pipeline } from "node:stream/promises";
import path from "node:path";
import { Command } from "commander";
import { exportLocalAudit } from "../../audit/export-local.js";
import { RemoteKeyring } from "../../client/remote-keyring.js";
import { AuditError, KeystoreError, UsageError } from "../../errors.js";
import { writeAtomic } from "../../io/atomic.js";
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
    .description("check the hash chain (and, locally, every key's authenticated state); exits non-zero and names the record if anything was modified, deleted, inserted or reordered")
    .option("--json", "print as JSON")
    .action(async (_o, cmd: Command) =>
      withKeyring(cmd, async (ks) => {
        const result = await ks.verifyAudit();
        // an intact chain over key rows edited in SQL is not a sound keystore (src/keys/key-state.ts)
        const keyState = ks instanceof RemoteKeyring ? null : ks.verifyKeyState();
        const ok = result.ok && (keyState?.ok ?? true);
        emit(cmd, keyState === null ? result : { ...result, ok, keyState }, () =>
          [
            result.ok ? `audit chain ok: ${result.records} records` : result.problems.map((p) => `record ${p.seq}: ${p.kind}${p.detail ? " (" + p.detail + ")" : ""}`).join("\n"),
            ...(keyState === null ? [] : keyState.ok ? [`key state ok: ${keyState.keys} keys`] : keyState.problems.map((p) => `key ${p.keyName}${p.version === null ? "" : ` v${p.version}`}: state does not authenticate`)),
          ].join("\n"),
        );
        if (!result.ok) throw new AuditError("AUDIT_CHAIN_BROKEN", `audit chain broken: ${result.problems.length} problem(s), first at record ${result.problems[0]?.seq}`);
        if (keyState !== null && !keyState.ok) {
          const first = keyState.problems[0] as { keyName: string; version: number | null };
          throw new KeystoreError("KEYSTORE_CORRUPT", `key state does not authenticate: ${keyState.problems.length} row(s), first ${first.keyName}${first.version === null ? "" : ` v${first.version}`}`);
        }
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
