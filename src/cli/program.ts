/**
 * What every pipeseal program shares (main.ts with every command, crypt-main.ts with only
 * encrypt and decrypt): the program-level options, the version line naming the crypto
 * engine, the one-line errors, stop signals and the exit.
 */
import { Command, CommanderError } from "commander";
import { isPipesealError } from "../errors.js";
import { engineDescription } from "../engine/index.js";
import { EXIT, exitCodeFor } from "./exit-codes.js";
import { checkRequiredAfterUnknown, usageOutput } from "./usage-errors.js";
import { installStopSignals } from "../io/signals.js";
import { busyToTyped } from "../keys/db.js";
import { onStaleTempRemoved } from "../io/temp-files.js";
import { printable } from "../io/printable.js";

export const VERSION = "0.1.0";

/** The root command with the program-level options; `--version` names the engine in use. */
export function newProgram(): Command {
  return new Command("pipeseal")
    .description("end-to-end encryption for AI/ML pipelines: sealed files, versioned keys, audited decrypts")
    .version(`${VERSION} (crypto engine: ${engineDescription()})`)
    .option("--home <dir>", "keystore folder, given before the command (default: $PIPESEAL_HOME or ./.pipeseal)")
    .option("--server <url>", "use the key service at this https:// URL instead of the local keystore (default: $PIPESEAL_SERVER)")
    .option("--cert <dir>", "client certificate folder for --server: cert.pem, key.pem, ca.pem (default: $PIPESEAL_CERT)")
    .option("--ca <file>", "without a certificate: the key service's CA (ca.pem), with a bearer token in $PIPESEAL_TOKEN (default: $PIPESEAL_CA)")
    .enablePositionalOptions() // so `key disable --version N` is the command's option, not the program's --version
    .exitOverride()
    .configureOutput(usageOutput)
    .showSuggestionAfterError();
}

/** One line, no stack, for anything a user can cause; a stack only with PIPESEAL_DEBUG=1. */
export function fail(thrown: unknown): never {
  const e = busyToTyped(thrown); // a locked keystore.db reached from anywhere: KEYSTORE_BUSY, not an internal error
  if (e instanceof CommanderError) process.exit(e.exitCode === 0 ? 0 : EXIT.usage); // commander printed it already
  if (isPipesealError(e)) {
    process.stderr.write(`pipeseal: ${printable(e.message)} [${e.code}]\n`); // a message may quote a file name: one line, no escapes
    process.exit(exitCodeFor(e.code));
  }
  const sys = e as NodeJS.ErrnoException;
  if (sys?.code && typeof sys.path === "string") {
    const what = sys.code === "ENOENT" ? "no such file" : sys.code === "EACCES" ? "permission denied" : sys.code === "EISDIR" ? "is a folder" : sys.code;
    process.stderr.write(`pipeseal: ${what}: ${printable(sys.path)} [IO_ERROR]\n`);
    process.exit(EXIT.failure);
  }
  if (sys?.code === "EPIPE") process.exit(EXIT.ok); // reader went away (e.g. `| head`)
  process.stderr.write(
    `pipeseal: internal error: ${printable((e as Error)?.message ?? String(e))}${process.env.PIPESEAL_DEBUG === "1" ? "\n" + (e as Error)?.stack : " (PIPESEAL_DEBUG=1 for details)"}\n`,
  );
  process.exit(EXIT.failure);
}

/** Adds the commands, installs the signal handlers and runs the program to its exit. */
export function runProgram(program: Command, commands: readonly (() => Command)[]): void {
  for (const make of commands) program.addCommand(make());
  program.commands.forEach(function override(c: Command) {
    c.exitOverride().configureOutput(usageOutput);
    c.commands.forEach(override);
  });
  checkRequiredAfterUnknown(program);
  // Ctrl-C, SIGTERM, SIGHUP: live temp files (a decrypt's plaintext) are removed before exit (128 + signal)
  installStopSignals({
    onInterrupt: (signal, removed) =>
      process.stderr.write(
        `${process.stderr.isTTY ? "\n" : ""}pipeseal: interrupted by ${signal}${removed.length ? `; removed ${removed.length} unfinished temp file(s)` : ""}\n`,
      ),
  });
  onStaleTempRemoved((file, pid) =>
    process.stderr.write(`pipeseal: removed ${file}, a temp file left by an interrupted pipeseal (pid ${pid}, no longer running)\n`),
  );
  process.stdout.on("error", (e) => fail(e));
  program.parseAsync(process.argv).then(
    () => process.exit(process.exitCode ?? EXIT.ok), // a command may set a non-error status (scan: new findings)
    (e) => fail(e),
  );
}
