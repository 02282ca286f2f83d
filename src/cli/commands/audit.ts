import { Readable } from "node:stream";
import { pipeline } from "node:stream/promises";
import { promises as fs } from "node:fs";
import path from "node:path";
import { Command } from "commander";
import { anchoredFailure } from "../../audit/anchor-check.js";
import { exportLocalAudit } from "../../audit/export-local.js";
import type { LocalKeystore } from "../../keys/keystore.js";
import { RemoteKeyring } from "../../client/remote-keyring.js";
import { AuditError, KeystoreError, UsageError } from "../../errors.js";
import { once, writeAtomic } from "../../io/atomic.js";
import { parseDuration } from "../../io/duration.js";
import { printable } from "../output.js";
import { emit, withKeyring } from "../session.js";
import { refuseOverwrite } from "../output.js";
import type { AuditFilter } from "../../audit/filter.js";
import { filteredAuditRecords, queryAuditPage } from "../../audit/query.js";

/** The record filters `audit list` and `audit export` share with the dashboard (src/audit/filter.ts). */
function withFilterOptions(c: Command): Command {
  return c
    .option("--principal <id>", "only this principal's records (local keystore)")
    .option("--key <name>", "only records of this key (local keystore)")
    .option("--operation <op>", "only this operation, e.g. unwrap, key.rotate (local keystore)")
    .option("--outcome <outcome>", "only ok, denied or error (local keystore)");
}

interface FilterOptions {
  principal?: string;
  key?: string;
  operation?: string;
  outcome?: string;
}
interface ListOptions extends FilterOptions {
  since?: string;
  limit?: string;
  json?: boolean;
}
interface ExportOptions extends FilterOptions {
  since?: string;
  afterSeq?: string;
  output?: string;
  force?: boolean;
}

function filterOf(opts: FilterOptions): AuditFilter | undefined {
  const f = {
    ...(opts.principal ? { principal: opts.principal } : {}),
    ...(opts.key ? { key: opts.key } : {}),
    ...(opts.operation ? { operation: opts.operation } : {}),
    ...(opts.outcome ? { outcome: opts.outcome as AuditFilter["outcome"] } : {}),
  };
  return Object.keys(f).length === 0 ? undefined : f;
}

/** @throws UsageError(INVALID_ARGUMENT): the key service's audit API takes no filters */
function localOnly(ks: LocalKeystore | RemoteKeyring, filter: AuditFilter | undefined): void {
  if (filter !== undefined && ks instanceof RemoteKeyring)
    throw new UsageError(
      "INVALID_ARGUMENT",
      "--principal, --key, --operation and --outcome filter the local keystore's audit; the key service's export takes --since and --after-seq",
    );
}

export function auditCommand(): Command {
  const audit = new Command("audit").description("read and verify the tamper-evident audit log");
  withFilterOptions(audit.command("list").description("audit records, oldest first"))
    .option("--since <duration>", "only records newer than this, e.g. 1h, 7d")
    .option("--limit <n>", "at most n records (the newest)")
    .option("--json", "print as JSON")
    .action(async (opts: ListOptions, cmd: Command) =>
      withKeyring(cmd, async (ks) => {
        const filter = filterOf(opts);
        localOnly(ks, filter);
        const sinceMs = opts.since ? Date.now() - parseDuration(opts.since) * 1000 : undefined;
        const local = filter !== undefined && !(ks instanceof RemoteKeyring) ? ks : null;
        const f = { ...filter, ...(sinceMs === undefined ? {} : { sinceMs }) };
        const records =
          local !== null
            ? opts.limit
              ? local.readTables((db) => queryAuditPage(db, f, { limit: Number(opts.limit) })).records.reverse() // the newest n (1..1000)
              : [...filteredAuditRecords((q) => local.readTables(q), f)]
            : await ks.listAudit({ ...(sinceMs === undefined ? {} : { sinceMs }), ...(opts.limit ? { limit: Number(opts.limit) } : {}) });
        emit(
          cmd,
          records,
          () =>
            records
              .map((r) =>
                // every field but seq may come from a client (the service records the object path it is given)
                [
                  r.seq,
                  printable(r.time),
                  printable(r.principal),
                  printable(r.operation),
                  r.keyName ? `${printable(r.keyName)}${r.keyVersion ? " v" + r.keyVersion : ""}` : "-",
                  printable(r.outcome) + (r.errorCode ? `(${printable(r.errorCode)})` : ""),
                  r.objectPath === null ? "" : printable(r.objectPath),
                ].join("  "),
              )
              .join("\n") || "no audit records",
        );
      }),
    );
  audit
    .command("verify")
    .description(
      "check the hash chain (and, locally, every key's authenticated state); exits non-zero and names the record if anything was modified, deleted, inserted or reordered",
    )
    .option("--anchor <file...>", "also prove the chain extends each signed anchor (from `audit anchor`): a rolled-back or forked chain fails")
    .option("--json", "print as JSON")
    .action(async (opts: { anchor?: string[] }, cmd: Command) =>
      withKeyring(cmd, async (ks) => {
        if (opts.anchor !== undefined) return verifyAnchored(cmd, ks, opts.anchor);
        const result = await ks.verifyAudit();
        // an intact chain over key rows edited in SQL is not a sound keystore (src/keys/key-state.ts)
        const keyState = ks instanceof RemoteKeyring ? null : ks.verifyKeyState();
        // the privacy ledger's rows against their dp.* audit records (src/privacy/ledger/verify.ts)
        const privacyLedger = ks instanceof RemoteKeyring ? null : (await import("../../privacy/ledger/verify.js")).verifyPrivacyLedger(ks);
        const ok = result.ok && (keyState?.ok ?? true) && (privacyLedger?.ok ?? true);
        emit(cmd, keyState === null ? result : { ...result, ok, keyState, privacyLedger }, () =>
          [
            result.ok
              ? `audit chain ok: ${result.records} records`
              : result.problems.map((p) => `record ${p.seq}: ${p.kind}${p.detail ? " (" + printable(p.detail) + ")" : ""}`).join("\n"),
            ...(keyState === null
              ? []
              : keyState.ok
                ? [`key state ok: ${keyState.keys} keys`]
                : keyState.problems.map((p) => `key ${p.keyName}${p.version === null ? "" : ` v${p.version}`}: state does not authenticate`)),
            ...(privacyLedger === null || (privacyLedger.ok && privacyLedger.budgets === 0)
              ? []
              : privacyLedger.ok
                ? [`privacy ledger ok: ${privacyLedger.budgets} budgets, ${privacyLedger.spends} spends`]
                : privacyLedger.problems.map(
                    (p) =>
                      `privacy budget ${printable(p.budget)}${p.entry === null ? "" : ` entry ${printable(p.entry)}`}: ${p.kind} (does not match its audit record)`,
                  )),
          ].join("\n"),
        );
        if (!result.ok)
          throw new AuditError("AUDIT_CHAIN_BROKEN", `audit chain broken: ${result.problems.length} problem(s), first at record ${result.problems[0]?.seq}`);
        if (privacyLedger !== null && !privacyLedger.ok) {
          const first = privacyLedger.problems[0] as { budget: string; entry: string | null; kind: string };
          throw new KeystoreError(
            "KEYSTORE_CORRUPT",
            `the privacy ledger does not match the audit chain: ${privacyLedger.problems.length} problem(s), first ${first.kind} in budget ${first.budget}`,
          );
        }
        if (keyState !== null && !keyState.ok) {
          const first = keyState.problems[0] as { keyName: string; version: number | null };
          throw new KeystoreError(
            "KEYSTORE_CORRUPT",
            `key state does not authenticate: ${keyState.problems.length} row(s), first ${first.keyName}${first.version === null ? "" : ` v${first.version}`}`,
          );
        }
      }),
    );
  audit
    .command("anchor")
    .description(
      "a signed checkpoint of the chain head (seq, MAC, time) to keep OUTSIDE the keystore; `audit verify --anchor` later detects a rollback or fork (docs/audit.md)",
    )
    .option("-o, --output <file>", "write the anchor here (atomically, 0644) instead of stdout")
    .option("--export-key <file>", "also write the anchor public key (SPKI PEM) here, for checking anchors without pipeseal")
    .option("-f, --force", "replace an existing --output or --export-key file")
    .action(async (opts: { output?: string; exportKey?: string; force?: boolean }, cmd: Command) =>
      withKeyring(cmd, async (ks) => {
        // both checked before anything is written: a refused command leaves neither file
        for (const file of [opts.exportKey, opts.output]) if (file) await refuseOverwrite(file, opts.force);
        const { anchor, publicKey } = ks instanceof RemoteKeyring ? await ks.auditAnchor() : { anchor: ks.auditAnchor(), publicKey: ks.auditAnchorPublicKey() };
        const text = `${JSON.stringify(anchor)}\n`;
        if (opts.exportKey) await writePublic(opts.exportKey, publicKey);
        if (opts.output) {
          await writePublic(opts.output, text);
          const { seq, time } = JSON.parse(Buffer.from(anchor.payload, "base64").toString("utf8")) as { seq: number; time: string };
          process.stderr.write(`anchored record ${seq} at ${time} in ${opts.output}\n`);
        } else process.stdout.write(text);
      }),
    );
  withFilterOptions(
    audit
      .command("export")
      .description("the audit log as JSON lines for a SIEM (schema pipeseal.audit.v1, docs/keyservice.md); the export is itself audited")
      .option("--since <duration>", "only records newer than this, e.g. 1h, 7d")
      .option("--after-seq <n>", "only records after this seq (resume from the last seq a SIEM stored)")
      .option("-o, --output <file>", "write here atomically (whole or not at all) instead of stdout")
      .option("-f, --force", "replace an existing --output file"),
  ).action(async (opts: ExportOptions, cmd: Command) =>
    withKeyring(cmd, async (ks) => {
      if (opts.output) await refuseOverwrite(opts.output, opts.force);
      const filter = filterOf(opts);
      localOnly(ks, filter);
      const options = {
        ...(opts.since ? { sinceMs: Date.now() - parseDuration(opts.since) * 1000 } : {}),
        ...(opts.afterSeq === undefined ? {} : { afterSeq: parseSeq(opts.afterSeq) }),
        ...(filter === undefined ? {} : { filter }),
      };
      const lines = ks instanceof RemoteKeyring ? ks.exportAudit(options) : exportLocalAudit(ks, options);
      const bytes = (async function* () {
        for await (const line of lines) yield Buffer.from(line, "utf8");
      })();
      // a failed or cut-short export leaves no file (and the old one, if any, untouched)
      if (opts.output) {
        const written = await writeAtomic(path.resolve(opts.output), bytes);
        if (process.stderr.isTTY) process.stderr.write(`wrote ${written} bytes of audit records to ${opts.output}\n`);
      } else await pipeline(Readable.from(bytes), process.stdout, { end: false });
    }),
  );
  return audit;
}

/** `audit verify --anchor`: the chain and each anchor; the error is the strongest finding (anchoredFailure). */
async function verifyAnchored(cmd: Command, ks: LocalKeystore | RemoteKeyring, files: readonly string[]): Promise<void> {
  const texts = await Promise.all(files.map(readAnchorFile));
  const result = await ks.verifyAuditAnchored(texts);
  emit(cmd, result, () =>
    [
      result.ok
        ? `audit chain ok: ${result.records} records`
        : result.problems.map((p) => `record ${p.seq}: ${p.kind}${p.detail ? " (" + p.detail + ")" : ""}`).join("\n"),
      ...result.anchors.map((a, i) => `anchor ${files[i]}: ${a.ok ? "ok, " : ""}${a.detail}`),
    ].join("\n"),
  );
  const failure = anchoredFailure(result);
  if (failure) throw failure;
}

/** @throws UsageError(INVALID_ARGUMENT) for a missing file; AuditError(AUDIT_ANCHOR_INVALID) for one too large to be an anchor */
async function readAnchorFile(file: string): Promise<string> {
  let handle: fs.FileHandle;
  try {
    handle = await fs.open(path.resolve(file), "r");
  } catch {
    throw new UsageError("INVALID_ARGUMENT", `cannot read the anchor file ${file}`);
  }
  try {
    const buf = Buffer.alloc(16 * 1024 + 1);
    const { bytesRead } = await handle.read(buf, 0, buf.length, 0);
    if (bytesRead > 16 * 1024) throw new AuditError("AUDIT_ANCHOR_INVALID", `the audit anchor is not valid: ${file} is too large to be an anchor`);
    return buf.subarray(0, bytesRead).toString("utf8");
  } finally {
    await handle.close();
  }
}

/** Anchors and the public key are public: written atomically, readable by others (0644). */
async function writePublic(file: string, text: string): Promise<void> {
  await writeAtomic(path.resolve(file), once(text), 0o644);
}

/** @throws UsageError(INVALID_ARGUMENT) unless a non-negative integer */
function parseSeq(text: string): number {
  if (!/^[0-9]{1,15}$/.test(text)) throw new UsageError("INVALID_ARGUMENT", `--after-seq must be a non-negative integer, not "${text.slice(0, 20)}"`);
  return Number(text);
}
