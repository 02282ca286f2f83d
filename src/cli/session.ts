import path from "node:path";
import type { Command } from "commander";
import type { LocalKeystore } from "../keys/index.js";
import { keystoreHome, openLocalKeystore } from "./local-keystore.js";
import type { RemoteKeyring } from "../client/remote-keyring.js";
import { UsageError } from "../errors.js";
import { printableLines } from "../io/printable.js";

export { keystoreHome, openLocalKeystore } from "./local-keystore.js";

/** The program-level options (given before the command): `ca issue --server` is that command's own flag, not this. */
function programOptions(cmd: Command): { server?: string; cert?: string; ca?: string } {
  let root = cmd;
  while (root.parent) root = root.parent;
  return root.opts<{ server?: string; cert?: string; ca?: string }>();
}

/** Whether --server was given before the command (as withKeystore refuses it; PIPESEAL_SERVER alone is not). */
export function serverGiven(cmd: Command): boolean {
  return !!programOptions(cmd).server;
}

/**
 * The key service a command should use, if any: --server URL (PIPESEAL_SERVER) with --cert DIR
 * (PIPESEAL_CERT), or, without a certificate, --ca FILE (PIPESEAL_CA) and a bearer token in
 * PIPESEAL_TOKEN (an environment variable only: a flag would show in the process list).
 */
export async function remoteKeyring(cmd: Command): Promise<RemoteKeyring | undefined> {
  const o = programOptions(cmd);
  const { server, cert, ca } = serviceOptions(cmd);
  const token = process.env.PIPESEAL_TOKEN || undefined;
  if (!server) {
    if (o.cert || o.ca) throw new UsageError("INVALID_ARGUMENT", `${o.cert ? "--cert" : "--ca"} is for --server`);
    return undefined;
  }
  const { RemoteKeyring } = await import("../client/remote-keyring.js"); // loaded only for --server: undici is a large part of start-up
  const common = { url: server, ...(token ? { token } : {}), ...(process.env.PIPESEAL_KEYRING_ID ? { id: process.env.PIPESEAL_KEYRING_ID } : {}) };
  if (cert) return RemoteKeyring.connect({ ...common, certDir: path.resolve(cert) });
  if (!ca)
    throw new UsageError(
      "INVALID_ARGUMENT",
      "--server needs --cert DIR (a folder with cert.pem, key.pem, ca.pem), or --ca FILE with a bearer token in PIPESEAL_TOKEN",
    );
  if (!token)
    throw new UsageError(
      "INVALID_ARGUMENT",
      "--ca without a client certificate needs a bearer token in PIPESEAL_TOKEN (mint one with `pipeseal --server URL --cert DIR token mint`)",
    );
  return RemoteKeyring.connect({ ...common, caFile: path.resolve(ca) });
}

/** --server, --cert and --ca as the command got them, each flag before its environment variable. */
function serviceOptions(cmd: Command): { server?: string; cert?: string; ca?: string } {
  const o = programOptions(cmd);
  const server = o.server ?? process.env.PIPESEAL_SERVER;
  const cert = o.cert ?? process.env.PIPESEAL_CERT;
  const ca = o.ca ?? process.env.PIPESEAL_CA;
  return { ...(server ? { server } : {}), ...(cert ? { cert } : {}), ...(ca ? { ca } : {}) };
}

/**
 * The program options that reach the same key service as this command, for a command line it
 * prints (`scan --fix`'s `pipeseal run` lines): `--server URL` with `--cert DIR`, or `--ca FILE`
 * (the bearer token stays in PIPESEAL_TOKEN, never on a printed line). Empty without a server.
 */
export function serviceFlags(cmd: Command): string[] {
  const { server, cert, ca } = serviceOptions(cmd);
  if (!server) return [];
  return ["--server", server, ...(cert ? ["--cert", cert] : ca ? ["--ca", ca] : [])];
}

/** For commands that only talk to the key service (`what`: their name, for the error). */
export async function withService<T>(cmd: Command, what: string, run: (kr: RemoteKeyring) => T | Promise<T>): Promise<T> {
  const kr = await remoteKeyring(cmd);
  if (!kr) throw new UsageError("INVALID_ARGUMENT", `${what} commands talk to the key service: give --server URL --cert DIR before the command`);
  try {
    return await run(kr);
  } finally {
    await kr.close();
  }
}

/** For commands that work against the local keystore or the key service: the key service when --server is given. */
export async function withKeyring<T>(cmd: Command, run: (ks: LocalKeystore | RemoteKeyring) => T | Promise<T>): Promise<T> {
  const remote = await remoteKeyring(cmd);
  if (!remote) return withKeystore(cmd, run);
  try {
    return await run(remote);
  } finally {
    await remote.close();
  }
}

/**
 * Opens the keystore for a command, asking for the passphrase when the store has no key file.
 * An HSM keystore takes its PIN from PIPESEAL_PKCS11_PIN_FILE (or the opted-in
 * PIPESEAL_PKCS11_PIN) and optional location overrides from PIPESEAL_PKCS11_MODULE / _TOKEN / _SLOT.
 */
export async function withKeystore<T>(cmd: Command, run: (ks: LocalKeystore) => T | Promise<T>): Promise<T> {
  if (programOptions(cmd).server)
    throw new UsageError(
      "INVALID_ARGUMENT",
      `\`pipeseal ${cmd.parent?.name() === "pipeseal" ? "" : (cmd.parent?.name() ?? "") + " "}${cmd.name()}\` needs a local keystore; it does not run against --server`,
    );
  const ks = await openLocalKeystore(keystoreHome(cmd));
  try {
    return await run(ks);
  } finally {
    ks.close();
  }
}

/**
 * Prints a result: JSON when --json, else the human form. The human form must pass each
 * user-controlled string through `printable` (cli/output.ts); whatever control or bidi
 * character is left (but newlines and tabs) is escaped here as a last line of defence.
 */
export function emit(cmd: Command, value: unknown, human: () => string): void {
  if (cmd.optsWithGlobals<{ json?: boolean }>().json) process.stdout.write(JSON.stringify(value, null, 2) + "\n");
  else {
    const text = printableLines(human());
    if (text) process.stdout.write(text.endsWith("\n") ? text : text + "\n");
  }
}
