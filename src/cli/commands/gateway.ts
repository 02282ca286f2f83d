/**
 * `pipeseal gateway`: serves the sealed files under --root over HTTPS with mutual TLS until
 * SIGINT, SIGTERM or SIGHUP, then closes gracefully (docs/gateway.md). Unwraps go through the local keystore (--home), each
 * recorded as the peer that asked, or, with --server, through the key service on behalf of
 * the peer (the service's policy must name the gateway as a delegate). Log lines (JSON, one
 * per event) go to stderr.
 */
import path from "node:path";
import { Command } from "commander";
import { UsageError } from "../../errors.js";
import { loadGatewayPolicy } from "../../gateway/policy.js";
import { startGateway } from "../../gateway/server.js";
import { parseDuration } from "../../io/duration.js";
import { onStopSignal } from "../../io/signals.js";
import { withKeystore } from "../session.js";
import { RemoteKeyring } from "../../client/remote-keyring.js";
import { isPipesealError } from "../../errors.js";
import type { GatewayBackend } from "../../gateway/backend.js";
import { remoteBackend } from "../../gateway/remote-backend.js";
import type { LocalKeystore } from "../../keys/local-keystore.js";

const collect = (v: string, prev: string[]) => [...prev, v];

/** `HOST:PORT`, `[v6]:PORT` or `PORT`. @throws UsageError(INVALID_ARGUMENT) */
export function parseListen(text: string): { host: string; port: number } {
  const m = /^(?:\[([0-9a-fA-F:.]+)\]|([^:[\]]+)):(\d{1,5})$/.exec(text) ?? /^()()(\d{1,5})$/.exec(text);
  const port = m ? Number(m[3]) : NaN;
  if (!m || !(port >= 0 && port <= 65535)) throw new UsageError("INVALID_ARGUMENT", `--listen "${text.slice(0, 60)}" is not HOST:PORT`);
  return { host: m[1] || m[2] || "127.0.0.1", port };
}

type GatewayOpts = {
  root: string;
  cert: string;
  listen: string;
  allow: string[];
  policy?: string;
  crl?: string;
  keyTtl: string;
  idleTimeout: string;
  maxConnections: string;
  server?: string;
  serverCert?: string;
  tokens?: boolean;
};

const log = (e: object) => process.stderr.write(`${JSON.stringify({ time: new Date().toISOString(), ...e })}\n`);

/** The local keystore, or with --server the key service (the gateway's own certificate, or --server-cert). */
async function withKeys<T>(cmd: Command, opts: GatewayOpts, run: (keys: LocalKeystore | GatewayBackend) => Promise<T>): Promise<T> {
  if (!opts.server) return withKeystore(cmd, run);
  // the service's own keyring id (GET /v1/info): files sealed through any of its URLs open here
  const kr = await RemoteKeyring.connect({
    url: opts.server,
    certDir: path.resolve(opts.serverCert ?? opts.cert),
    ...(process.env.PIPESEAL_KEYRING_ID ? { id: process.env.PIPESEAL_KEYRING_ID } : {}),
  });
  try {
    return await run(
      remoteBackend(kr, (e) => log({ level: "error", msg: "could not record in the key service's audit", code: isPipesealError(e) ? e.code : "INTERNAL" })),
    );
  } finally {
    await kr.close();
  }
}

export function gatewayCommand(): Command {
  return new Command("gateway")
    .description("serve sealed files to loaders over HTTPS+mTLS by byte range, audited per peer (docs/gateway.md)")
    .requiredOption("--root <dir>", "folder of sealed files: ROOT/a/b.jsonl.pseal is served at /a/b.jsonl")
    .requiredOption("--cert <dir>", "the gateway's certificate folder (pipeseal ca issue gateway --out DIR): cert.pem, key.pem, ca.pem")
    .option("--listen <host:port>", "address to listen on", "127.0.0.1:9443")
    .option("--allow <pattern>", "SPIFFE ID pattern of peers let in, e.g. 'spiffe://acme.ml/prod/trainer*' (repeatable)", collect, [])
    .option("--policy <file>", "gateway.yaml: identities × paths × required context values (deny by default)")
    .option("--key-ttl <duration>", "longest time an opened object's keys stay in memory (and the audit window)", "60s")
    .option("--idle-timeout <duration>", "close a connection that makes no progress for this long", "30s")
    .option("--max-connections <n>", "connections open at once", "256")
    .option("--server <url>", "unwrap through the key service at this https:// URL, on behalf of each peer (its policy must name the gateway in `delegates`)")
    .option("--server-cert <dir>", "client certificate folder for --server (default: --cert, issued with `ca issue gateway --server --client`)")
    .option("--crl <file>", "refuse peers whose certificate this CRL revokes (pipeseal ca crl -o FILE); the file is watched and reloaded")
    .option("--tokens", "also take peers without a client certificate that send a bearer token from the key service (needs --server)")
    .action(async (opts: GatewayOpts, cmd: Command) => {
      const listen = parseListen(opts.listen);
      const policy = opts.policy ? loadGatewayPolicy(opts.policy) : undefined;
      const maxConnections = Number(opts.maxConnections);
      if (!Number.isInteger(maxConnections) || maxConnections < 1) throw new UsageError("INVALID_ARGUMENT", "--max-connections must be a positive integer");
      if (opts.tokens && !opts.server)
        throw new UsageError("INVALID_ARGUMENT", "--tokens needs --server: bearer tokens come from the key service, which checks them");
      if (opts.serverCert && !opts.server) throw new UsageError("INVALID_ARGUMENT", "--server-cert is for --server");
      await withKeys(cmd, opts, async (keys) => {
        const gw = await startGateway(
          {
            root: opts.root,
            keys,
            ...(opts.tokens ? { tokens: true } : {}),
            tls: { certDir: path.resolve(opts.cert), ...(opts.crl ? { crlFile: path.resolve(opts.crl) } : {}) },
            ...(opts.allow.length ? { allow: opts.allow } : {}),
            ...(policy ? { policy } : {}),
            keyTtlMs: parseDuration(opts.keyTtl) * 1000,
            idleTimeoutMs: parseDuration(opts.idleTimeout) * 1000,
            maxConnections,
            log,
          },
          listen,
        );
        process.stderr.write(`pipeseal gateway: serving ${path.resolve(opts.root)} on ${gw.url}\n`);
        // through the CLI's stop signals (as `serve` and `ui`): a bare process.once would not stop
        // installStopSignals from exiting at once, and close() writes the open windows' summaries
        let release = () => undefined as void;
        await new Promise<void>((resolve) => (release = onStopSignal(() => resolve())));
        try {
          await gw.close(); // in-flight responses finish, summaries recorded, --server records flushed; a second signal exits at once
        } finally {
          release();
        }
      });
    });
}
