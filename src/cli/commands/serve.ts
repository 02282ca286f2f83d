import { Command } from "commander";
import { UsageError } from "../../errors.js";
import { keyServiceTemplate } from "../../server/templates.js";
import { loadConfig } from "../../server/config.js";
import { startKeyService } from "../../server/server.js";
import { onStopSignal } from "../../io/signals.js";
import { serviceDashboard } from "../../web/service-ui.js";

/** `pipeseal serve --config keyservice.yaml`: the key service over mTLS until SIGINT, SIGTERM or SIGHUP (then a graceful close). */
export function serveCommand(): Command {
  const serve = new Command("serve")
    .description("run the key service (HTTPS with mTLS; docs/keyservice.md); `serve init` prints a starting keyservice.yaml")
    .option("--config <file>", "keyservice.yaml: listen, certDir, allow, store, policy, tokenTtl, root (HSM), tls.crl, audit anchors")
    .option("--no-ui", "do not serve the dashboard at /ui/ (docs/ui.md)")
    .action(async (opts: { config?: string; ui: boolean }) => {
      if (!opts.config)
        throw new UsageError("INVALID_ARGUMENT", "serve needs --config keyservice.yaml (`pipeseal serve init > keyservice.yaml` prints a commented one)");
      const config = loadConfig(opts.config);
      const log = (line: string) => process.stderr.write(`pipeseal serve: ${line}\n`);
      const svc = await startKeyService(config, {
        log,
        onInternalError: (e) => log(`internal error: ${(e as Error)?.message ?? String(e)}`),
        ...(opts.ui ? { extend: serviceDashboard() } : {}),
      });
      log(
        `listening on ${svc.url} (store ${svc.store.kind}, keyring id ${svc.keyringId}${config.crlFile ? `, CRL ${config.crlFile}` : ""}${opts.ui ? `, dashboard at ${svc.url}/ui/` : ""})`,
      );
      let release = () => undefined as void;
      await new Promise<void>((resolve) => (release = onStopSignal(() => resolve())));
      try {
        await svc.close(); // in-flight requests finish; a second signal exits at once
      } finally {
        release();
      }
    });
  serve.addCommand(
    templateOptions(new Command("init"))
      .description("print a commented keyservice.yaml to start from (pipeseal serve init > keyservice.yaml; then pipeseal policy init > policy.yaml)")
      .action((opts: { trustDomain: string; env: string }) => {
        process.stdout.write(keyServiceTemplate(checkTemplateOptions(opts)));
      }),
  );
  return serve;
}

/** `--trust-domain` and `--env` of `serve init` and `policy init`. */
export function templateOptions(cmd: Command): Command {
  return cmd
    .option("--trust-domain <domain>", "SPIFFE trust domain of your identities (as in `pipeseal ca init --trust-domain`)", "pipeseal.internal")
    .option("--env <env>", "the environment the service serves", "prod");
}

/** @throws UsageError(INVALID_ARGUMENT) for a trust domain or environment that identities cannot carry */
export function checkTemplateOptions(opts: { trustDomain: string; env: string }): { trustDomain: string; env: string } {
  if (!/^[a-z0-9][a-z0-9.-]{0,252}$/.test(opts.trustDomain))
    throw new UsageError("INVALID_ARGUMENT", "--trust-domain must be a lower-case DNS-style name such as acme.ml");
  if (!/^[a-z][a-z0-9-]{0,31}$/.test(opts.env)) throw new UsageError("INVALID_ARGUMENT", "--env must be a short lower-case name such as prod");
  return opts;
}
