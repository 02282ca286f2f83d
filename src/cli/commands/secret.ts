/**
 * `pipeseal secret …`: the sealed secret store (src/secrets). Values come from stdin, a file
 * or a hidden terminal prompt, never from argv (the process list and shell history would
 * keep them); `get` prints a value only to a terminal unless `--to-stdout` says otherwise.
 */
import { readFileSync } from "node:fs";
import { Command } from "commander";
import { UsageError } from "../../errors.js";
import { MAX_SECRET_BYTES, SecretStore, type SecretInfo } from "../../secrets/index.js";
import { confirmDestructive } from "../confirm.js";
import { promptHidden } from "../passphrase.js";
import { emit, remoteKeyring, withKeystore } from "../session.js";
import type { RemoteSecrets } from "../../client/secrets.js";

function version(text: string): number {
  const v = Number(text);
  if (!Number.isInteger(v) || v < 1) throw new UsageError("INVALID_ARGUMENT", `--version must be a positive whole number (got "${text}")`);
  return v;
}

interface ValueOptions {
  fromFile?: string;
  keepNewline?: boolean;
  json?: boolean;
}
interface GetOptions {
  reveal?: boolean;
  toStdout?: boolean;
  version?: string;
}
interface StateOptions {
  version?: string;
  all?: boolean;
  yes?: boolean;
  json?: boolean;
}

/** Reads the value: --from-file, else stdin (a hidden prompt on a terminal). One trailing newline is dropped unless --keep-newline. */
async function readValue(opts: ValueOptions): Promise<Buffer> {
  let value: Buffer;
  if (opts.fromFile !== undefined) value = readFileSync(opts.fromFile);
  else if (process.stdin.isTTY) value = Buffer.from(await promptHidden("Secret value: "), "utf8");
  else {
    const parts: Buffer[] = [];
    let size = 0;
    for await (const chunk of process.stdin as AsyncIterable<Buffer>) {
      parts.push(chunk);
      size += chunk.length;
      if (size > MAX_SECRET_BYTES + 2) break; // the store refuses it; do not read on
    }
    value = Buffer.concat(parts);
    parts.forEach((p) => p.fill(0));
  }
  if (!opts.keepNewline) {
    const cut = value.at(-1) === 0x0a ? (value.at(-2) === 0x0d ? 2 : 1) : 0;
    if (cut > 0) {
      const trimmed = Buffer.from(value.subarray(0, value.length - cut));
      value.fill(0);
      value = trimmed;
    }
  }
  return value;
}

const when = (t: string | null | undefined) => t ?? "-";

function describe(s: SecretInfo): string {
  const read = s.lastRead ? `last read ${s.lastRead.at} by ${s.lastRead.by} for "${s.lastRead.for}" (v${s.lastRead.version})` : "never read";
  const lines = [`${s.name}  primary v${s.primaryVersion}  key ${s.keyName}  created ${s.createdAt} by ${s.createdBy}  ${read}`];
  for (const v of s.versions)
    lines.push(
      `  v${v.version}  ${v.state.padEnd(9)}  created ${v.createdAt} by ${v.createdBy}${v.destroyedAt ? `  destroyed ${when(v.destroyedAt)}` : ""}${v.primary ? "  (primary)" : ""}`,
    );
  return lines.join("\n");
}

/** What every store offers `secret` commands: the local SecretStore, or the key service's (--server). */
interface Store {
  set(name: string, value: Uint8Array, mode: "set" | "rotate"): Promise<SecretInfo>;
  list(): SecretInfo[] | Promise<SecretInfo[]>;
  show(name: string): SecretInfo | Promise<SecretInfo>;
  read: SecretStore["read"];
}

/** The local store, or with --server the key service's. */
async function withStore<T>(cmd: Command, run: (store: Store) => Promise<T>): Promise<T> {
  const remote = await remoteKeyring(cmd);
  if (!remote) return withKeystore(cmd, (ks) => run(new SecretStore(ks)));
  try {
    return await run(remote.secrets);
  } finally {
    await remote.close();
  }
}

/** disable, enable, destroy on either store. */
async function changeState(store: Store | SecretStore, name: string, verb: "disable" | "enable" | "destroy", v: number | "all"): Promise<unknown> {
  if (!(store instanceof SecretStore)) return (store as RemoteSecrets).change(name, verb, v);
  return verb === "disable" ? store.disable(name, v as number) : verb === "enable" ? store.enable(name, v as number) : store.destroy(name, v);
}

export function secretCommand(): Command {
  const secret = new Command("secret").description("a sealed, versioned secret store: set, list, show, get, rotate, disable, enable, destroy");
  for (const [verb, what] of [
    ["set", "store a value read from stdin or --from-file (never from argv) as a new primary version"],
    ["rotate", "store a new primary version of an existing secret (stdin or --from-file)"],
  ] as const) {
    secret
      .command(`${verb} <name>`)
      .description(what)
      .argument("[value...]", "refused: a value on the command line leaks into the process list and shell history")
      .option("--from-file <file>", "read the value from this file")
      .option("--keep-newline", "keep a trailing newline (dropped by default)")
      .option("--json", "print as JSON")
      .action(async (name: string, extra: string[], opts: ValueOptions, cmd: Command) => {
        if (extra.length > 0)
          throw new UsageError(
            "INVALID_ARGUMENT",
            `a secret value is never taken from the command line; pipe it in (pipeseal secret ${verb} ${name} < file) or use --from-file`,
          );
        await withStore(cmd, async (store) => {
          const value = await readValue(opts);
          try {
            const info = await store.set(name, value, verb);
            emit(cmd, info, () => `${verb === "set" ? "stored" : "rotated"} ${name}: primary is now v${info.primaryVersion}`);
          } finally {
            value.fill(0);
          }
        });
      });
  }
  secret
    .command("list")
    .description("secrets with their versions and last read (never values)")
    .option("--json", "print as JSON")
    .action(async (_o: unknown, cmd: Command) =>
      withStore(cmd, async (store) => {
        const all = await store.list();
        emit(cmd, all, () => (all.length ? all.map(describe).join("\n") : "no secrets yet: pipeseal secret set <namespace/name> < file"));
      }),
    );
  secret
    .command("show <name>")
    .description("one secret's metadata: versions, states, created, last read and by whom")
    .option("--json", "print as JSON")
    .action(async (name: string, _o: unknown, cmd: Command) =>
      withStore(cmd, async (store) => {
        const info = await store.show(name);
        emit(cmd, info, () => describe(info));
      }),
    );
  secret
    .command("get <name>")
    .description("print a value to the terminal (audited); prefer `pipeseal run`, which never shows it")
    .option("--reveal", "required: say that you mean to display the secret")
    .option("--to-stdout", "allow writing the value to a pipe or file instead of a terminal")
    .option("--version <n>", "a version other than the primary")
    .action(async (name: string, opts: GetOptions, cmd: Command) => {
      if (!opts.reveal)
        throw new UsageError(
          "INVALID_ARGUMENT",
          "`secret get` prints the value: add --reveal to confirm (or use `pipeseal run --secret VAR=" + name + " -- cmd`)",
        );
      const tty = process.stdout.isTTY === true;
      if (!tty && !opts.toStdout)
        throw new UsageError(
          "INVALID_ARGUMENT",
          "stdout is not a terminal: refusing to write a secret into a pipe or file; add --to-stdout if that is intended",
        );
      await withStore(cmd, async (store) => {
        const { value } = await store.read(name, {
          ...(opts.version ? { version: version(opts.version) } : {}),
          for: `secret get --reveal${tty ? "" : " --to-stdout"}`,
        });
        try {
          await new Promise<void>((resolve, reject) =>
            process.stdout.write(tty ? Buffer.concat([value, Buffer.from("\n")]) : value, (e) => (e ? reject(e) : resolve())),
          );
        } finally {
          value.fill(0);
        }
      });
    });
  // each verb with its own past tense ("destroyed", not verb + "d"), as `key` has
  for (const [verb, done, what] of [
    ["disable", "disabled", "stop a version from being read (reversible)"],
    ["enable", "enabled", "re-enable a disabled version"],
    [
      "destroy",
      "destroyed",
      "delete a version's sealed value and data key for good (crypto-shredding); --all for every version; without a terminal it needs --yes",
    ],
  ] as const) {
    const c = secret.command(`${verb} <name>`).description(what).option("--version <n>", "secret version").option("--json", "print as JSON");
    if (verb === "destroy")
      c.option("--all", "every version, the primary included").option("-y, --yes", "do not ask for confirmation (required when there is no terminal to ask)");
    c.action(async (name: string, opts: StateOptions, cmd: Command) => {
      const all = verb === "destroy" && opts.all === true;
      const given = opts.version;
      if (all === (given !== undefined)) throw new UsageError("INVALID_ARGUMENT", verb === "destroy" ? "give --version N or --all" : "give --version N");
      const v = given === undefined ? "all" : version(given);
      const which = all ? "(every version)" : `v${v}`;
      if (verb === "destroy") {
        // the guard `key destroy` uses: without a terminal to ask, only --yes destroys
        const question = `Destroy ${name} ${which}? The value is gone for good. Type the secret name to confirm: `;
        await confirmDestructive({ yes: opts.yes, question, expected: name, nothing: "nothing was destroyed" });
      }
      await withStore(cmd, async (store) => {
        const result = await changeState(store, name, verb, v);
        emit(cmd, result, () => `${done} ${name} ${which}`);
      });
    });
  }
  return secret;
}
