import { spawn } from "node:child_process";
import path from "node:path";
import { Command } from "commander";
import { alertFileSource } from "../../web/alerts.js";
import { postureSource } from "../../web/posture-source.js";
import { startDashboard } from "../../web/server.js";
import { onStopSignal } from "../../io/signals.js";
import { withKeystore, keystoreHome } from "../session.js";

/**
 * `pipeseal ui`: the dashboard over the local keystore, on loopback only. The first line of
 * output is exactly the login URL (scripts read it); its token works once.
 */
export function uiCommand(): Command {
  return new Command("ui")
    .description("the dashboard over the local keystore, on 127.0.0.1 only; prints the login URL (single-use token) on its first line (docs/ui.md)")
    .option("--listen <host:port>", "loopback address to listen on", "127.0.0.1:0")
    .option("--open", "also open the dashboard in the browser (xdg-open), with its own single-use token")
    .option("--alerts <file>", "the monitor's alerts from JSON lines of `pipeseal monitor check --json` (default: the keystore's alert ledger, `monitor run`)")
    .option("--posture <path>", "posture reports: a `posture check --json` report, or a folder of them (the history)")
    .option("--read-only", "show no admin actions and refuse them")
    .action(async (opts: { listen: string; open?: boolean; alerts?: string; posture?: string; readOnly?: boolean }, cmd: Command) =>
      withKeystore(cmd, async (ks) => {
        const ui = await startDashboard({
          ks,
          listen: opts.listen,
          ...(opts.alerts ? { alerts: alertFileSource(path.resolve(opts.alerts)) } : {}), // default: the keystore's alert ledger, acknowledgeable
          posture: opts.posture ? postureSource(path.resolve(opts.posture)) : null,
          readOnly: opts.readOnly === true,
          label: keystoreHome(cmd),
        });
        process.stdout.write(`${ui.loginUrl()}\n`);
        if (opts.open) openBrowser(ui.loginUrl());
        process.stderr.write("pipeseal ui: serving until Ctrl-C\n");
        let release = () => undefined as void;
        await new Promise<void>((resolve) => (release = onStopSignal(() => resolve())));
        try {
          await ui.close();
        } finally {
          release();
        }
      }),
    );
}

/** Best effort: a machine without a desktop has no opener; the printed URL still works. */
function openBrowser(url: string): void {
  const child = spawn("xdg-open", [url], { stdio: "ignore", detached: true });
  child.on("error", () => process.stderr.write("pipeseal ui: no browser to open here (xdg-open not found); open the URL above\n"));
  child.unref();
}
