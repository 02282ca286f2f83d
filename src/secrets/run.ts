/**
 * `runWithSecrets`: resolves secrets, then starts one child process that gets them — as
 * environment variables of that child only, or as paths to private files (files.ts) — and
 * masks them in the child's stdout and stderr (mask.ts).
 *
 * Security guarantees: every secret is resolved (and its read audited) before anything starts,
 * so a missing or refused secret starts nothing; a value is placed only in the environment
 * object handed to spawn (never in this process's `process.env` or argv); no shell runs unless
 * `shell` is set; the buffers read from the store are wiped as soon as they are copied into
 * the child's environment object, file and masker (before the spawn), the masker's copies when
 * the child exits, and secret files are zeroed and removed when it exits. Not covered:
 * JavaScript strings cannot be wiped (the env object's strings live until garbage
 * collection), a child may copy its secrets anywhere, masking sees only the forms listed in
 * mask.ts, and a SIGKILLed pipeseal cannot remove its secret files (they are on tmpfs, in a
 * 0700 folder).
 */
import { spawn } from "node:child_process";
import os from "node:os";
import { PipesealError, UsageError } from "../errors.js";
import { yieldStopSignals } from "../io/signals.js";
import { DEFAULT_ENV_ALLOW, baseEnv, looksSecret } from "./env.js";
import { type SecretFiles, createSecretFiles } from "./files.js";
import { type MaskPattern, StreamMasker, maskPatterns } from "./mask.js";
import { validateSecretName, validateSecretVersion } from "./names.js";
import type { SecretSource } from "./store.js";

export interface SecretBinding {
  /** The child's environment variable. */
  readonly variable: string;
  /** The secret's name. */
  readonly ref: string;
  /** Default: the primary version. */
  readonly version?: number;
  /** `env`: the variable holds the value; `file`: the variable holds a path to a file holding it. */
  readonly as: "env" | "file";
}

const VARIABLE = /^[A-Za-z_][A-Za-z0-9_]{0,127}$/;

/**
 * Parses `VAR=namespace/name` or `VAR=namespace/name@N` (the CLI form).
 * @throws UsageError(INVALID_ARGUMENT)
 */
export function parseBinding(text: string, as: "env" | "file"): SecretBinding {
  const eq = text.indexOf("=");
  const variable = eq > 0 ? text.slice(0, eq) : "";
  if (!VARIABLE.test(variable))
    throw new UsageError("INVALID_ARGUMENT", `--secret${as === "file" ? "-file" : ""} takes VAR=namespace/name (e.g. OPENAI_API_KEY=llm/openai)`);
  let ref = text.slice(eq + 1);
  let version: number | undefined;
  const at = ref.lastIndexOf("@");
  if (at > 0) {
    version = validateSecretVersion(Number(ref.slice(at + 1).replace(/^v/, "")));
    ref = ref.slice(0, at);
  }
  validateSecretName(ref);
  return { variable, ref, ...(version !== undefined ? { version } : {}), as };
}

export interface RunOptions {
  readonly secrets: readonly SecretBinding[];
  readonly command: string;
  readonly args?: readonly string[];
  /** Run `command` through /bin/sh -c (args become $1…). Off by default: no shell string is ever interpreted unless asked. */
  readonly shell?: boolean;
  /** Start from an empty environment plus `envAllow` (default {@link DEFAULT_ENV_ALLOW}). */
  readonly pristine?: boolean;
  readonly envAllow?: readonly string[];
  /** Mask secrets in the child's stdout/stderr (default true). */
  readonly mask?: boolean;
  /** The parent environment (default process.env). */
  readonly parentEnv?: NodeJS.ProcessEnv;
  readonly stdout?: NodeJS.WritableStream;
  readonly stderr?: NodeJS.WritableStream;
  /** Warnings for humans (dropped variables, disk fallback); never a value. */
  readonly onWarning?: (message: string) => void;
  /** Where secret files go (default /dev/shm; tests). */
  readonly shm?: string;
  /** Called once every secret is resolved, before anything starts (the CLI closes the keystore here). */
  readonly afterResolve?: () => void;
  /** Called with the child's pid once it has started. */
  readonly onSpawn?: (pid: number) => void;
}

export interface RunResult {
  /** The child's exit status, or 128 + the signal number if a signal ended it. */
  readonly exitCode: number;
  readonly signal: NodeJS.Signals | null;
  /** Secret occurrences masked in the output. */
  readonly masked: number;
}

const FORWARDED = ["SIGINT", "SIGTERM", "SIGHUP"] as const;

/**
 * What a run's secret reads are recorded as being for: the program and its leading plain
 * arguments (`run: python3 train.py`). An argument is kept only while it is short, holds no
 * whitespace or `=`, and does not look like a secret, so a token passed on the child's command
 * line (or inside a `-c` script) never reaches the audit chain.
 */
export function describeCommand(command: string, args: readonly string[]): string {
  const plain = (a: string) => a.length <= 100 && !/[\s=]/.test(a) && !looksSecret("ARG", a);
  const kept: string[] = [];
  for (const a of args) {
    if (kept.length >= 3 || !plain(a)) break;
    kept.push(a);
  }
  const more = args.length - kept.length;
  return [`run: ${plain(command) ? command : "(command)"}`, ...kept, ...(more > 0 ? [`(+${more} more args)`] : [])].join(" ");
}

/**
 * @example
 * const r = await runWithSecrets(new SecretStore(ks), { secrets: [parseBinding("OPENAI_API_KEY=llm/openai", "env")], command: "python3", args: ["train.py"] });
 * process.exitCode = r.exitCode;
 * @throws UsageError(INVALID_ARGUMENT) for bad bindings; what `source.read` throws
 *   (KeyError(SECRET_NOT_FOUND | SECRET_DISABLED | SECRET_DESTROYED), ACCESS_DENIED …), in which
 *   case nothing was started; PipesealError(CHILD_FAILED) if the command could not be started.
 */
export async function runWithSecrets(source: SecretSource, options: RunOptions): Promise<RunResult> {
  const args = options.args ?? [];
  if (typeof options.command !== "string" || options.command === "") throw new UsageError("INVALID_ARGUMENT", "a command to run is required (after --)");
  const seen = new Set<string>();
  for (const b of options.secrets) {
    if (!VARIABLE.test(b.variable)) throw new UsageError("INVALID_ARGUMENT", `invalid variable name for ${b.ref}`);
    if (seen.has(b.variable)) throw new UsageError("INVALID_ARGUMENT", `${b.variable} is given twice`);
    seen.add(b.variable);
  }
  const warn = options.onWarning ?? (() => undefined);
  const purpose = describeCommand(options.command, args);
  const values: Buffer[] = [];
  let files: SecretFiles | undefined;
  const patterns: MaskPattern[] = [];
  let env: Record<string, string>;
  try {
    for (const b of options.secrets)
      values.push((await source.read(b.ref, { ...(b.version !== undefined ? { version: b.version } : {}), for: purpose })).value);
    options.afterResolve?.();
    const base = baseEnv(options.parentEnv ?? process.env, { pristine: options.pristine === true, allow: options.envAllow ?? DEFAULT_ENV_ALLOW });
    if (base.dropped.length > 0)
      warn(
        `not passing ${base.dropped.join(", ")} to the child: ${base.dropped.length === 1 ? "its value looks" : "their values look"} like a secret (use --secret, or --pristine --env-allow)`,
      );
    env = base.env;
    options.secrets.forEach((b, i) => {
      const value = values[i];
      if (b.as === "file") {
        files ??= createSecretFiles(options.shm);
        env[b.variable] = files.add(b.variable.toLowerCase(), value);
      } else {
        const text = value.toString("utf8");
        // an environment string cannot hold NUL, and bytes that are not UTF-8 would reach the child altered
        if (value.includes(0) || !Buffer.from(text, "utf8").equals(value))
          throw new UsageError("INVALID_ARGUMENT", `${b.ref} is binary (a NUL byte or not UTF-8) and cannot be an environment variable; use --secret-file`);
        env[b.variable] = text;
      }
      if (options.mask !== false) patterns.push(...maskPatterns(b.ref, value));
    });
    if (files !== undefined && !files.inMemory) warn(`no /dev/shm: secret files are in ${files.dir}, on disk (mode 0600, removed when the child exits)`);
  } catch (e) {
    files?.remove();
    patterns.forEach((p) => p.bytes.fill(0));
    throw e;
  } finally {
    values.forEach((v) => v.fill(0));
  }
  try {
    return await spawnMasked(options, args, env, patterns);
  } finally {
    files?.remove();
    patterns.forEach((p) => p.bytes.fill(0));
  }
}

function spawnMasked(options: RunOptions, args: readonly string[], env: Record<string, string>, patterns: MaskPattern[]): Promise<RunResult> {
  const mask = options.mask !== false && patterns.length > 0;
  const [file, argv] = options.shell ? ["/bin/sh", ["-c", options.command, "sh", ...args]] : [options.command, [...args]];
  return new Promise<RunResult>((resolve, reject) => {
    const child = spawn(file, argv, { env, stdio: ["inherit", mask ? "pipe" : "inherit", mask ? "pipe" : "inherit"], shell: false });
    const forward = FORWARDED.map((sig) => [sig, () => child.kill(sig)] as const);
    forward.forEach(([sig, fn]) => process.on(sig, fn));
    const giveBack = yieldStopSignals(); // the CLI's stop handler must not exit while the child decides
    const maskers: StreamMasker[] = [];
    let pending = 0;
    let exit: { code: number | null; signal: NodeJS.Signals | null } | undefined;
    const finish = () => {
      if (exit === undefined || pending > 0) return;
      forward.forEach(([sig, fn]) => process.off(sig, fn));
      giveBack();
      const masked = maskers.reduce((n, m) => n + m.masked, 0);
      maskers.forEach((m) => m.wipe());
      const signo = exit.signal ? (os.constants.signals[exit.signal] ?? 0) : 0;
      resolve({ exitCode: exit.code ?? 128 + signo, signal: exit.signal, masked });
    };
    child.once("error", (e: NodeJS.ErrnoException) => {
      forward.forEach(([sig, fn]) => process.off(sig, fn));
      giveBack();
      const why = e.code === "ENOENT" ? "not found" : e.code === "EACCES" ? "permission denied" : (e.code ?? "error");
      reject(new PipesealError("CHILD_FAILED", `cannot run ${JSON.stringify(options.command.slice(0, 80))}: ${why}`));
    });
    child.once("spawn", () => {
      options.onSpawn?.(child.pid as number);
    });
    if (mask) {
      const routes: [NodeJS.ReadableStream, NodeJS.WritableStream][] = [
        [child.stdout!, options.stdout ?? process.stdout],
        [child.stderr!, options.stderr ?? process.stderr],
      ];
      for (const [from, to] of routes) {
        const masker = new StreamMasker(patterns.map((p) => ({ bytes: Buffer.from(p.bytes), replacement: p.replacement })));
        maskers.push(masker);
        pending++;
        from.on("data", (chunk: Buffer) => {
          const out = masker.write(chunk);
          if (out.length > 0 && !to.write(out)) {
            from.pause();
            to.once("drain", () => from.resume());
          }
        });
        from.once("end", () => {
          const out = masker.end();
          const done = () => {
            pending--;
            finish();
          };
          if (out.length > 0) to.write(out, done);
          else done();
        });
      }
    }
    child.once("exit", (code, signal) => {
      exit = { code, signal };
      finish();
    });
  });
}
