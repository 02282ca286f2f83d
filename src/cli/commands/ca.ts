import { existsSync } from "node:fs";
import path from "node:path";
import { Command } from "commander";
import { UsageError } from "../../errors.js";
import { once, writeAtomic } from "../../io/atomic.js";
import { onStopSignal } from "../../io/signals.js";
import {
  CERT_FILE,
  KEY_FILE,
  type CertRecord,
  caInfo,
  createCrl,
  exportCaPem,
  initCa,
  issueCertificate,
  listCertificates,
  parseReason,
  renewCertificateDir,
  revokeCertificate,
  watchCertificateDir,
  writeCertDir,
} from "../../pki/ca/index.js";
import { CRL_POLL_MS } from "../../pki/crl/source.js";
import { parseDuration } from "../../io/duration.js";
import { emit, withKeystore } from "../session.js";
import { readFile } from "node:fs/promises";
import { printable, refuseOverwrite } from "../output.js";

const collect = (value: string, previous: string[] = []) => [...previous, value];
const iso = (d: Date) => d.toISOString().replace(/\.000Z$/, "Z");

interface InitOptions {
  name: string;
  trustDomain: string;
  maxTtl: string;
  json?: boolean;
}
interface ExportOptions {
  out: string;
  rootOnly?: boolean;
  force?: boolean;
}
interface IssueOptions {
  env: string;
  out: string;
  dns?: string[];
  ip?: string[];
  server?: boolean;
  client?: boolean;
  ttl?: string;
  csr?: string;
  force?: boolean;
  json?: boolean;
}
interface RevokeOptions {
  reason: string;
  json?: boolean;
}
interface CrlOptions {
  out: string;
  nextUpdate: string;
  json?: boolean;
}
interface RenewOptions {
  force?: boolean;
  watch?: boolean;
  json?: boolean;
}

function row(c: CertRecord): string {
  return `${printable(c.serial)}  ${printable(c.status).padEnd(10)}  ${iso(c.notAfter)}  ${printable(c.kind).padEnd(13)}  ${printable(c.identity)}`;
}

export function caCommand(): Command {
  const ca = new Command("ca").description("the internal CA: short-lived service certificates with SPIFFE identities");
  ca.command("init")
    .description("create a root CA and an issuing CA; their private keys are sealed in the keystore")
    .option("--name <name>", "CA name shown in its subjects", "pipeseal")
    .option("--trust-domain <domain>", "SPIFFE trust domain of issued identities", "pipeseal.internal")
    .option("--max-ttl <duration>", "longest certificate lifetime allowed", "720h")
    .option("--json", "print as JSON")
    .action(async (opts: InitOptions, cmd: Command) =>
      withKeystore(cmd, async (ks) => {
        const info = await initCa(ks, { name: opts.name, trustDomain: opts.trustDomain, maxTtlSeconds: parseDuration(opts.maxTtl) });
        const { rootPem: _r, issuingPem: _i, ...shown } = info;
        emit(cmd, shown, () =>
          [
            `created CA "${info.name}" for spiffe://${info.trustDomain}`,
            `  root     ${info.rootSerial}  until ${iso(info.rootNotAfter)}`,
            `  issuing  ${info.issuingSerial}  until ${iso(info.issuingNotAfter)}`,
            `  private keys sealed under keystore key ${info.keyName}; max TTL ${opts.maxTtl}`,
            `export the trust anchor with: pipeseal ca export -o ca.pem`,
          ].join("\n"),
        );
      }),
    );
  ca.command("export")
    .description("write the CA certificates (root, then issuing) for trust stores")
    .requiredOption("-o, --out <file>", "output file, e.g. ca.pem, or - for stdout")
    .option("--root-only", "the root alone")
    .option("-f, --force", "replace an existing --out file")
    .action(async (opts: ExportOptions, cmd: Command) =>
      withKeystore(cmd, async (ks) => {
        if (opts.out !== "-") await refuseOverwrite(opts.out, opts.force);
        const pem = exportCaPem(ks, { rootOnly: Boolean(opts.rootOnly) });
        if (opts.out === "-") return void process.stdout.write(pem);
        await writeAtomic(opts.out, once(pem), 0o644);
        process.stdout.write(`wrote ${opts.out}\n`);
      }),
    );
  ca.command("issue <service>")
    .description("issue a certificate for spiffe://<trust-domain>/<env>/<service>")
    .requiredOption("--env <env>", "environment, e.g. prod")
    .requiredOption("--out <dir>", "folder for cert.pem, key.pem, ca.pem")
    .option("--dns <name>", "DNS SAN (repeatable)", collect)
    .option("--ip <address>", "IP SAN (repeatable)", collect)
    .option("--server", "serverAuth (the default unless --client)")
    .option("--client", "clientAuth (with --server for both)")
    .option("--ttl <duration>", "lifetime (default 24h for servers, 1h for clients)")
    .option("--csr <file>", "certify the key of this PEM CSR instead of generating one")
    .option("--force", "replace an existing cert.pem/key.pem in --out")
    .option("--json", "print as JSON")
    .action(async (service: string, opts: IssueOptions, cmd: Command) => {
      const out = path.resolve(opts.out);
      if (!opts.force && (existsSync(path.join(out, CERT_FILE)) || existsSync(path.join(out, KEY_FILE)))) {
        throw new UsageError("INVALID_ARGUMENT", `${out} already holds a certificate; use --force to replace it, or \`pipeseal ca renew\``);
      }
      const csrPem = opts.csr === undefined ? undefined : await readFile(opts.csr, "utf8");
      await withKeystore(cmd, async (ks) => {
        const issued = await issueCertificate(ks, {
          service,
          env: opts.env,
          dns: opts.dns ?? [],
          ip: opts.ip ?? [],
          ...(opts.server ? { server: true } : {}),
          ...(opts.client ? { client: true } : {}),
          ...(opts.ttl ? { ttlSeconds: parseDuration(opts.ttl) } : {}),
          ...(csrPem !== undefined ? { csrPem } : {}),
        });
        await writeCertDir(out, { certPem: issued.certPem, caPem: issued.caPem, keyPem: issued.keyPem });
        const { keyPem: _k, certPem: _c, caPem: _a, ...shown } = issued;
        emit(cmd, { ...shown, dir: out }, () => `issued ${issued.serial} ${issued.identity} (${issued.kind}) until ${iso(issued.notAfter)} → ${out}`);
      });
    });
  ca.command("list")
    .description("issued certificates: serial, status, not-after, kind, identity")
    .option("--json", "print as JSON")
    .action((_o: unknown, cmd: Command) =>
      withKeystore(cmd, (ks) => {
        const certs = listCertificates(ks);
        emit(cmd, certs, () => (certs.length ? certs.map(row).join("\n") : "no certificates yet: pipeseal ca issue <service> --env <env> --out <dir>"));
      }),
    );
  ca.command("revoke <serial>")
    .description("revoke a certificate (publish with `pipeseal ca crl`)")
    .option("--reason <reason>", "keyCompromise, superseded, affiliationChanged, cessationOfOperation, privilegeWithdrawn, unspecified", "unspecified")
    .option("--json", "print as JSON")
    .action(async (serial: string, opts: RevokeOptions, cmd: Command) => {
      const reason = parseReason(opts.reason);
      await withKeystore(cmd, (ks) => {
        const rec = revokeCertificate(ks, serial, { reason });
        emit(cmd, rec, () => revokedMessage(rec.serial, rec.identity, reason));
      });
    });
  /** What a revocation does not do by itself: it reaches services only through a new CRL file. */
  function revokedMessage(serial: string, identity: string, reason: string): string {
    return [
      `revoked ${serial} ${identity} (${reason}) in the CA registry`,
      "it is NOT refused anywhere yet: publish a new CRL with",
      "  pipeseal ca crl -o <file>",
      `key services (pipeseal serve) whose keyservice.yaml has tls.crl pointing at <file>, and gateways started with --crl <file>, reload it within ${CRL_POLL_MS / 1000} s and then close the`,
      'certificate\'s open connections; servers given a CRL inline must be given the new one (setCrl) or restarted. See docs/transit.md "Revocation".',
    ].join("\n");
  }
  ca.command("crl")
    .description("write a CRL signed by the issuing CA")
    .requiredOption("-o, --out <file>", "output file, e.g. crl.pem")
    .option("--next-update <duration>", "when the next CRL is due", "24h")
    .option("--json", "print as JSON")
    .action(async (opts: CrlOptions, cmd: Command) =>
      withKeystore(cmd, async (ks) => {
        const crl = await createCrl(ks, { nextUpdateSeconds: parseDuration(opts.nextUpdate) });
        await writeAtomic(opts.out, once(crl.pem), 0o644);
        const { pem: _p, ...shown } = crl;
        emit(
          cmd,
          shown,
          () =>
            `wrote ${opts.out}: CRL #${crl.crlNumber}, ${crl.entries.length} revoked, next update ${iso(crl.nextUpdate)}; key services with tls.crl and gateways with --crl pointing at it reload it within ${CRL_POLL_MS / 1000} s (write a new one before then)`,
        );
      }),
    );
  ca.command("renew <dir>")
    .description("renew <dir>/cert.pem once 2/3 of its lifetime has passed (new key, same identity)")
    .option("--force", "renew now even if not due")
    .option("--watch", "keep running and renew at each 2/3 point; stops on SIGINT, SIGTERM or SIGHUP")
    .option("--json", "print as JSON")
    .action(async (dir: string, opts: RenewOptions, cmd: Command) =>
      withKeystore(cmd, async (ks) => {
        if (!opts.watch) {
          const r = await renewCertificateDir(ks, dir, { force: Boolean(opts.force) });
          emit(cmd, r, () =>
            r.renewed
              ? `renewed ${dir}: ${r.previousSerial} → ${r.serial} (${r.why}), until ${iso(r.notAfter)}, next due ${iso(r.dueAt)}`
              : `not due: ${dir} (${r.serial}) is due for renewal at ${iso(r.dueAt)}; --force to renew now`,
          );
          return;
        }
        caInfo(ks); // fail now if there is no CA
        const stop = new AbortController();
        const release = onStopSignal(() => stop.abort());
        try {
          // renew now if due (or forced), then say what is being watched and when it renews next
          const first = await renewCertificateDir(ks, dir, { force: Boolean(opts.force) });
          if (first.renewed) log(first);
          process.stderr.write(
            `pipeseal: watching ${printable(dir)}: certificate ${first.serial} valid until ${iso(first.notAfter)}; next renewal at ${iso(first.dueAt)} (stop with Ctrl-C or SIGTERM)\n`,
          );
          await watchCertificateDir(ks, dir, {
            signal: stop.signal,
            onRenew: log,
            onError: (e, ms) =>
              process.stderr.write(`pipeseal: renewal of ${dir} failed (${(e as Error)?.message ?? e}); retrying in ${Math.round(ms / 1000)}s\n`),
          });
        } finally {
          release();
        }
        function log(r: Awaited<ReturnType<typeof renewCertificateDir>>) {
          process.stdout.write(
            `${new Date().toISOString()} renewed ${dir}: ${r.previousSerial} → ${r.serial} until ${iso(r.notAfter)}, next due ${iso(r.dueAt)}\n`,
          );
        }
      }),
    );
  return ca;
}
