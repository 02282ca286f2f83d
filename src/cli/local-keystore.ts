/**
 * Finding and opening the local keystore for a command. Apart from session.ts so that a
 * command that only needs the local keystore (`pipeseal run`) does not load the key-service
 * client (undici) at start-up.
 */
import { existsSync } from "node:fs";
import path from "node:path";
import type { Command } from "commander";
import { MASTER_KEY_FILE, openKeystore, type LocalKeystore } from "../keys/index.js";
import { describeKeystoreRoot, pkcs11LocationFromEnv, readPkcs11Pin, type Pkcs11OpenOptions } from "../keys/pkcs11/index.js";
import { readPassphrase } from "./passphrase.js";

/** The keystore folder: --home, else PIPESEAL_HOME, else ./.pipeseal. */
export function keystoreHome(cmd: Command): string {
  const opts = cmd.optsWithGlobals<{ home?: string }>();
  return path.resolve(opts.home ?? process.env.PIPESEAL_HOME ?? ".pipeseal");
}

/** Opens the keystore in `home` with whatever its root needs: the key file, a passphrase (asked), or the HSM (PIN per withKeystore). */
export async function openLocalKeystore(home: string, options: { principal?: string } = {}): Promise<LocalKeystore> {
  const hsm = describeKeystoreRoot(home)?.source === "pkcs11";
  const needsPassphrase = !hsm && existsSync(path.join(home, "keystore.db")) && !existsSync(path.join(home, MASTER_KEY_FILE));
  const passphrase = needsPassphrase ? await readPassphrase("Keystore passphrase: ") : undefined;
  const onWarning = (message: string) => void process.stderr.write(`pipeseal: warning: ${message}\n`);
  return openKeystore(home, { ...options, onWarning, ...(hsm ? { pkcs11: hsmOpenOptions() } : passphrase === undefined ? {} : { passphrase }) });
}

function hsmOpenOptions(): Pkcs11OpenOptions {
  const { module, token, slot } = pkcs11LocationFromEnv();
  return {
    pin: readPkcs11Pin(),
    ...(module !== undefined ? { module } : {}),
    ...(token !== undefined ? { token } : {}),
    ...(slot !== undefined ? { slot } : {}),
  };
}
