import { Command } from "commander";
import { UsageError } from "../../errors.js";
import type { KeyInfo } from "../../keys/index.js";
import { formatDuration, parseDuration } from "../../io/duration.js";
import { confirmDestructive } from "../confirm.js";
import { printable } from "../output.js";
import { emit, withKeyring } from "../session.js";

function version(text: string): number {
  const v = Number(text);
  if (!Number.isInteger(v) || v < 1) throw new UsageError("INVALID_ARGUMENT", `--version must be a positive whole number (got "${text}")`);
  return v;
}

const show = (t: string | number | null | undefined) => (t == null ? "-" : new Date(t).toISOString());

function describe(k: KeyInfo): string {
  const lines = [
    `${printable(k.name)}  primary v${k.primaryVersion}  min-decrypt v${k.minDecryptVersion}  rotate-every ${k.rotateEverySeconds ? formatDuration(k.rotateEverySeconds) : "-"}  ${k.rotationDue ? "ROTATION DUE" : `next rotation ${show(k.dueAt)}`}`,
  ];
  for (const v of k.versions)
    lines.push(
      `  v${v.version}  ${printable(v.state).padEnd(9)}  created ${show(v.createdAt)}  wraps ${v.wrapCount}${v.version === k.primaryVersion ? "  (primary)" : ""}`,
    );
  return lines.join("\n");
}

interface CreateOptions {
  rotateEvery?: string;
  json?: boolean;
}
interface VersionOptions {
  version: string;
  yes?: boolean;
  json?: boolean;
}
interface SetOptions {
  minDecryptVersion?: string;
  json?: boolean;
}

export function keyCommand(): Command {
  const key = new Command("key").description("create, rotate and manage named, versioned keys");
  key
    .command("create <name>")
    .description("create a key with version 1 as primary")
    .option("--rotate-every <duration>", "rotation period, e.g. 90d; `key list` shows when rotation is due")
    .option("--json", "print as JSON")
    .action(async (name: string, opts: CreateOptions, cmd: Command) =>
      withKeyring(cmd, async (ks) => {
        const info = await ks.createKey(name, opts.rotateEvery ? { rotateEverySeconds: parseDuration(opts.rotateEvery) } : {});
        emit(cmd, info, () => `created ${printable(name)} v1`);
      }),
    );
  key
    .command("rotate <name>")
    .description("add a new primary version; older versions still decrypt")
    .option("--json", "print as JSON")
    .action(async (name: string, _o: unknown, cmd: Command) =>
      withKeyring(cmd, async (ks) => {
        const info = await ks.rotateKey(name);
        emit(cmd, info, () => `rotated ${printable(name)}: primary is now v${info.primaryVersion}`);
      }),
    );
  key
    .command("list")
    .description("keys with their versions, states and rotation status")
    .option("--json", "print as JSON")
    .action(async (_o: unknown, cmd: Command) =>
      withKeyring(cmd, async (ks) => {
        const keys = await ks.listKeys();
        emit(cmd, keys, () => (keys.length ? keys.map(describe).join("\n") : "no keys yet: pipeseal key create <name>"));
      }),
    );
  key
    .command("show <name>")
    .description("one key in detail")
    .option("--json", "print as JSON")
    .action(async (name: string, _o: unknown, cmd: Command) =>
      withKeyring(cmd, async (ks) => {
        const info = await ks.showKey(name);
        emit(cmd, info, () => describe(info));
      }),
    );

  // each verb with its own past tense ("destroyed", not verb + "d")
  for (const [verb, done, what] of [
    ["disable", "disabled", "stop a version from wrapping or unwrapping (reversible)"],
    ["enable", "enabled", "re-enable a disabled version"],
    ["destroy", "destroyed", "wipe a version's key material: data under it can never be opened again (crypto-shredding)"],
  ] as const) {
    key
      .command(`${verb} <name>`)
      .description(what)
      .requiredOption("--version <n>", "key version")
      .option("-y, --yes", "do not ask for confirmation (destroy)")
      .option("--json", "print as JSON")
      .action(async (name: string, opts: VersionOptions, cmd: Command) => {
        const v = version(opts.version);
        await withKeyring(cmd, async (ks) => {
          if (verb === "destroy") {
            const state = (await ks.showKey(name)).versions.find((x) => x.version === v)?.state;
            if (state === "destroyed")
              return emit(cmd, { name, version: v, state, alreadyDestroyed: true }, () => `${name} v${v} was already destroyed; nothing to do`);
            if (state !== undefined) {
              // an unknown version is refused by destroyVersion itself
              const question = `Destroy ${name} v${v}? Everything sealed under it becomes unreadable. Type the key name to confirm: `;
              await confirmDestructive({ yes: opts.yes, question, expected: name, nothing: "nothing was destroyed" });
            }
          }
          const info =
            verb === "disable" ? await ks.disableVersion(name, v) : verb === "enable" ? await ks.enableVersion(name, v) : await ks.destroyVersion(name, v);
          emit(cmd, info, () => `${done} ${name} v${v}`);
        });
      });
  }
  key
    .command("set <name>")
    .description("change a key's settings")
    .option("--min-decrypt-version <n>", "refuse to unwrap under versions below n")
    .option("--json", "print as JSON")
    .action(async (name: string, opts: SetOptions, cmd: Command) => {
      const min = opts.minDecryptVersion;
      if (min === undefined) throw new UsageError("INVALID_ARGUMENT", "nothing to set: give --min-decrypt-version");
      await withKeyring(cmd, async (ks) => {
        const info = await ks.setMinDecryptVersion(name, version(min));
        emit(cmd, info, () => `${printable(name)}: minimum decryption version is now v${info.minDecryptVersion}`);
      });
    });
  return key;
}
