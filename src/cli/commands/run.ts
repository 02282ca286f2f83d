/**
 * `pipeseal run [--secret VAR=ref]… [--secret-file VAR=ref]… -- cmd args…`: hands secrets to
 * one child process (src/secrets/run.ts). pipeseal's own argv holds only references, its
 * environment never holds a value, and the child's argv is exactly the user's.
 */
import { Command } from "commander";
import { UsageError } from "../../errors.js";
import { SecretStore, parseBinding, runWithSecrets, type SecretBinding } from "../../secrets/index.js";
import { keystoreHome, openLocalKeystore } from "../local-keystore.js";
import { remoteKeyring } from "../session.js";

const collect = (as: "env" | "file") => (text: string, all: SecretBinding[]) => [...all, parseBinding(text, as)];

interface RunOptions {
  secret: SecretBinding[];
  secretFile: SecretBinding[];
  pristine?: boolean;
  envAllow?: string;
  /** false with --no-mask */
  mask: boolean;
  shell?: boolean;
}

export function runCommand(): Command {
  return new Command("run")
    .description("run a command with secrets from the store: as its environment variables or private files, masked in its output")
    .argument("<command>", "the program to run (no shell unless --shell)")
    .argument("[args...]", "its arguments, exactly as given")
    .option("--secret <VAR=ref>", "set VAR in the child to the secret's value (ref: namespace/name, or namespace/name@N); repeatable", collect("env"), [])
    .option(
      "--secret-file <VAR=ref>",
      "set VAR in the child to the path of a private 0600 file on tmpfs holding the value, removed when the child exits; repeatable",
      collect("file"),
      [],
    )
    .option("--pristine", "start the child from an empty environment plus --env-allow")
    .option("--env-allow <names>", "with --pristine: the variables to keep, comma-separated (default PATH,HOME,USER,LOGNAME,SHELL,LANG,LC_ALL,TERM,TZ,TMPDIR)")
    .option("--no-mask", "do not mask secret values in the child's stdout and stderr")
    .option("--shell", "run <command> as a /bin/sh -c string (the remaining args are $1…)")
    .passThroughOptions()
    .action(async (command: string, args: string[], opts: RunOptions, cmd: Command) => {
      const secrets = [...opts.secret, ...opts.secretFile];
      if (opts.envAllow !== undefined && !opts.pristine) throw new UsageError("INVALID_ARGUMENT", "--env-allow is for --pristine");
      const envAllow =
        opts.envAllow === undefined
          ? undefined
          : opts.envAllow
              .split(",")
              .map((s) => s.trim())
              .filter(Boolean);
      // with --server the key service's store; without secrets nothing is read: no store is opened (run then only filters the environment)
      const remote = await remoteKeyring(cmd);
      const ks = secrets.length > 0 && !remote ? await openLocalKeystore(keystoreHome(cmd)) : undefined;
      let closing: Promise<void> | undefined;
      const closeRemote = () => (closing ??= remote?.close() ?? Promise.resolve());
      try {
        const source = remote
          ? remote.secrets
          : ks
            ? new SecretStore(ks)
            : { read: () => Promise.reject(new UsageError("INVALID_ARGUMENT", "no secrets were asked for")) };
        const result = await runWithSecrets(source, {
          secrets,
          command,
          args,
          shell: opts.shell === true,
          pristine: opts.pristine === true,
          ...(envAllow ? { envAllow } : {}),
          mask: opts.mask !== false,
          onWarning: (m) => process.stderr.write(`pipeseal run: warning: ${m}\n`),
          afterResolve: () => {
            ks?.close(); // the child never shares pipeseal's open keystore
            void closeRemote(); // nor its connections to the key service
          },
        });
        process.exitCode = result.exitCode;
      } finally {
        ks?.close();
        await closeRemote();
      }
    });
}
