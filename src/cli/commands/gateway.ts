/**
 * `pipeseal gateway`: serves the sealed files under --root over HTTPS with mutual TLS until
 * SIGINT/SIGTERM (docs/gateway.md). Unwraps go through the local keystore (--home), each
 * recorded as the peer that asked. Log lines (JSON, one per event) go to stderr.
 */
import path from "node:path";
import { Command } from "commander";
import { UsageError } from "../../errors.js";
import { loadGatewayPolicy } from "../../gateway/policy.js";
import { startGateway } from "../../gateway/server.js";
import { parseDuration } from "../../io/duration.js";
import { withKeystore } from "../session.js";

const collect = (v: string, prev: string[]) => [...prev, v];

/** `HOST:PORT`, `[v6]:PORT` or `PORT`. @throws UsageError(INVALID_ARGUMENT) */
export function parseListen(text: string): { host: string; port: number } {
  const m = /^(?:\[([0-9a-fA-F:.]+)\]|([^:[\]]+)):(\d{1,5})$/.exec(text) ?? /^()()(\d{1,5})$/.exec(text);
  const port = m ? Number(m[3]) : NaN;
  if (!m || !(port >= 0 && port <= 65535)) throw new UsageError("INVALID_ARGUMENT", `--listen "${text.slice(0, 60)}" is not HOST:PORT`);
  return { host: m[1] || m[2] || "127.0.0.1", port };
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
    .action(async (opts: { root: string; cert: string; listen: string; allow: string[]; policy?: string; keyTtl: string; idleTimeout: string; maxConnections: string }, cmd: Command) => {
      const listen = parseListen(opts.listen);
      const policy = opts.policy ? loadGatewayPolicy(opts.policy) : undefined;
      const maxConnections = Number(opts.maxConnections);
      if (!Number.isInteger(maxConnections) || maxConnections < 1) throw new UsageError("INVALID_ARGUMENT", "--max-connections must be a positive integer");
      await withKeystore(cmd, async (ks) => {
        const gw = await startGateway(
          {
            root: opts.root,
            keys: ks,
            tls: { certDir: path.resolve(opts.cert) },
            ...(opts.allow.length ? { allow: opts.allow } : {}),
            ...(policy ? { policy } : {}),
            keyTtlMs: parseDuration(opts.keyTtl) * 1000,
            idleTimeoutMs: parseDuration(opts.idleTimeout) * 1000,
            maxConnections,
            log: (e) => process.stderr.write(`${JSON.stringify({ time: new Date().toISOString(), ...e })}\n`),
          },
          listen,
        );
        process.stderr.write(`pipeseal gateway: serving ${path.resolve(opts.root)} on ${gw.url}\n`);
        await new Promise<void>((resolve) => {
          process.once("SIGINT", resolve);
          process.once("SIGTERM", resolve);
        });
        await gw.close();
      });
    });
}
