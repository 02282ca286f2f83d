import { existsSync } from "node:fs";
import path from "node:path";
import type { Command } from "commander";
import { MASTER_KEY_FILE, openKeystore, type LocalKeystore } from "../keys/index.js";
import { describeKeystoreRoot, pkcs11LocationFromEnv, readPkcs11Pin, type Pkcs11OpenOptions } from "../keys/pkcs11/index.js";
import { readPassphrase } from "./passphrase.js";
import { RemoteKeyring } from "../client/remote-keyring.js";
import { UsageError } from "../errors.js";

/** The program-level options (given before the command): `ca issue --server` is that command's own flag, not this. */
function programOptions(cmd: Command): { server?: string; cert?: string } {
  let root = cmd;
  while (root.parent) root = root.parent;
  return root.opts<{ server?: string; cert?: string }>();
}

/** The key service a command should use (--server URL --cert DIR, or PIPESEAL_SERVER / PIPESEAL_CERT), if any. */
export function remoteKeyring(cmd: Command): RemoteKeyring | undefined {
  const o = programOptions(cmd);
  const server = o.server ?? process.env.PIPESEAL_SERVER;
  const cert = o.cert ?? process.env.PIPESEAL_CERT;
  if (!server) {
    if (o.cert) throw new UsageError("INVALID_ARGUMENT", "--cert is for --server");
    return undefined;
  }
  if (!cert) throw new UsageError("INVALID_ARGUMENT", "--server needs --cert DIR (a folder with cert.pem, key.pem, ca.pem)");
  return new RemoteKeyring({ url: server, certDir: path.resolve(cert), ...(process.env.PIPESEAL_KEYRING_ID ? { id: process.env.PIPESEAL_KEYRING_ID } : {}) });
}

/** For commands that work against the local keystore or the key service: the key service when --server is given. */
export async function withKeyring<T>(cmd: Command, run: (ks: LocalKeystore | RemoteKeyring) => Promise<T>): Promise<T> {
  const remote = remoteKeyring(cmd);
  if (!remote) return withKeystore(cmd, run);
  try {
    return await run(remote);
  } finally {
    await remote.close();
  }
}

/** The keystore folder: --home, else PIPESEAL_HOME, else ./.pipeseal. */
export function keystoreHome(cmd: Command): string {
  const opts = cmd.optsWithGlobals<{ home?: string }>();
  return path.resolve(opts.home ?? process.env.PIPESEAL_HOME ?? ".pipeseal");
}

/**
 * Opens the keystore for a command, asking for the passphrase when the store has no key file.
 * An HSM keystore takes its PIN from PIPESEAL_PKCS11_PIN_FILE (or the opted-in
 * PIPESEAL_PKCS11_PIN) and optional location overrides from PIPESEAL_PKCS11_MODULE / _TOKEN / _SLOT.
 */
export async function withKeystore<T>(cmd: Command, run: (ks: LocalKeystore) => Promise<T>): Promise<T> {
  if (programOptions(cmd).server) throw new UsageError("INVALID_ARGUMENT", `\`pipeseal ${cmd.parent?.name() === "pipeseal" ? "" : (cmd.parent?.name() ?? "") + " "}${cmd.name()}\` needs a local keystore; it does not run against --server`);
  const ks = await openLocalKeystore(keystoreHome(cmd));
  try {
    return await run(ks);
  } finally {
    ks.close();
  }
}

/** Opens the keystore in `home` with whatever its root needs: the key file, a passphrase (asked), or the HSM (PIN per withKeystore). */
export async function openLocalKeystore(home: string, options: { principal?: string } = {}): Promise<LocalKeystore> {
  const hsm = describeKeystoreRoot(home)?.source === "pkcs11";
  const needsPassphrase = !hsm && existsSync(path.join(home, "keystore.db")) && !existsSync(path.join(home, MASTER_KEY_FILE));
  const passphrase = needsPassphrase ? await readPassphrase("Keystore passphrase: ") : undefined;
  return openKeystore(home, { ...options, ...(hsm ? { pkcs11: hsmOpenOptions() } : passphrase === undefined ? {} : { passphrase }) });
}

function hsmOpenOptions(): Pkcs11OpenOptions {
  const { module, token, slot } = pkcs11LocationFromEnv();
  return { pin: readPkcs11Pin(), ...(module !== undefined ? { module } : {}), ...(token !== undefined ? { token } : {}), ...(slot !== undefined ? { slot } : {}) };
}

/** Prints a result: JSON when --json, else the human form. */
export function emit(cmd: Command, value: unknown, human: () => string): void {
  if (cmd.optsWithGlobals<{ json?: boolean }>().json) process.stdout.write(JSON.stringify(value, null, 2) + "\n");
  else {
    const text = human();
    if (text) process.stdout.write(text.endsWith("\n") ? text : text + "\n");
  }
}
