import { Command } from "commander";
import { loadConfig } from "../../server/config.js";
import { startKeyService } from "../../server/server.js";
import { onStopSignal } from "../../io/signals.js";

/** `pipeseal serve --config keyservice.yaml`: the key service over mTLS until SIGINT, SIGTERM or SIGHUP (then a graceful close). */
export function serveCommand(): Command {
  return new Command("serve")
    .description("run the key service (HTTPS with mTLS; docs/keyservice.md)")
    .requiredOption("--config <file>", "keyservice.yaml: listen, certDir, allow, store, policy, tokenTtl, root (HSM), tls.crl")
    .action(async (opts) => {
      const config = loadConfig(opts.config);
      const log = (line: string) => process.stderr.write(`pipeseal serve: ${line}\n`);
      const svc = await startKeyService(config, { log, onInternalError: (e) => log(`internal error: ${(e as Error)?.message ?? String(e)}`) });
      log(`listening on ${svc.url} (store ${svc.store.kind}, keyring id ${svc.keyringId}${config.crlFile ? `, CRL ${config.crlFile}` : ""})`);
      let release = () => undefined as void;
      await new Promise<void>((resolve) => (release = onStopSignal(() => resolve())));
      try {
        await svc.close(); // in-flight requests finish; a second signal exits at once
      } finally {
        release();
      }
    });
}
