/**
 * `pipeseal run` alone (see bin.ts for why): the same program-level options as main.ts and the
 * same one-line errors, with only the run command loaded.
 */
import { Command, CommanderError } from "commander";
import { isPipesealError } from "../errors.js";
import { runCommand } from "./commands/run.js";
import { EXIT, exitCodeFor } from "./exit-codes.js";

const program = new Command("pipeseal")
  .option("--home <dir>", "keystore folder, given before the command (default: $PIPESEAL_HOME or ./.pipeseal)")
  .option("--server <url>", "use the key service at this https:// URL instead of the local keystore (default: $PIPESEAL_SERVER)")
  .option("--cert <dir>", "client certificate folder for --server: cert.pem, key.pem, ca.pem (default: $PIPESEAL_CERT)")
  .option("--ca <file>", "without a certificate: the key service's CA (ca.pem), with a bearer token in $PIPESEAL_TOKEN (default: $PIPESEAL_CA)")
  .enablePositionalOptions()
  .exitOverride();
program.addCommand(runCommand().exitOverride());

function fail(e: unknown): never {
  if (e instanceof CommanderError) process.exit(e.exitCode === 0 ? 0 : EXIT.usage);
  if (isPipesealError(e)) {
    process.stderr.write(`pipeseal: ${e.message} [${e.code}]\n`);
    process.exit(exitCodeFor(e.code));
  }
  process.stderr.write(
    `pipeseal: internal error: ${(e as Error)?.message ?? String(e)}${process.env.PIPESEAL_DEBUG === "1" ? "\n" + (e as Error)?.stack : " (PIPESEAL_DEBUG=1 for details)"}\n`,
  );
  process.exit(EXIT.failure);
}

program.parseAsync(process.argv).then(
  () => process.exit(process.exitCode ?? EXIT.ok),
  (e) => fail(e),
);
