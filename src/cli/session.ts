import { existsSync } from "node:fs";
import path from "node:path";
import type { Command } from "commander";
import { MASTER_KEY_FILE, openKeystore, type LocalKeystore } from "../keys/index.js";
import { readPassphrase } from "./passphrase.js";

/** The keystore folder: --home, else PIPESEAL_HOME, else ./.pipeseal. */
export function keystoreHome(cmd: Command): string {
  const opts = cmd.optsWithGlobals<{ home?: string }>();
  return path.resolve(opts.home ?? process.env.PIPESEAL_HOME ?? ".pipeseal");
}

/** Opens the keystore for a command, asking for the passphrase when the store has no key file. */
export async function withKeystore<T>(cmd: Command, run: (ks: LocalKeystore) => Promise<T>): Promise<T> {
  const home = keystoreHome(cmd);
  const needsPassphrase = existsSync(path.join(home, "keystore.db")) && !existsSync(path.join(home, MASTER_KEY_FILE));
  const passphrase = needsPassphrase ? await readPassphrase("Keystore passphrase: ") : undefined;
  const ks = await openKeystore(home, passphrase === undefined ? {} : { passphrase });
  try {
    return await run(ks);
  } finally {
    ks.close();
  }
}

/** Prints a result: JSON when --json, else the human form. */
export function emit(cmd: Command, value: unknown, human: () => string): void {
  if (cmd.optsWithGlobals<{ json?: boolean }>().json) process.stdout.write(JSON.stringify(value, null, 2) + "\n");
  else {
    const text = human();
    if (text) process.stdout.write(text.endsWith("\n") ? text : text + "\n");
  }
}
