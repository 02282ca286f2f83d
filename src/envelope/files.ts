import { createReadStream } from "node:fs";
import { stat } from "node:fs/promises";
import type { Keyring } from "../keys/keyring.js";
import { writeAtomic } from "../io/atomic.js";
import { openStream, type OpenOptions } from "./open.js";
import { sealStream, type SealOptions } from "./seal.js";

/** Read-stream chunk size: large reads keep syscalls off the hot path. */
export const READ_CHUNK = 1024 * 1024;

/** Bytes of a file as an async stream of large chunks. */
export function readChunks(path: string): AsyncIterable<Buffer> {
  return createReadStream(path, { highWaterMark: READ_CHUNK });
}

/**
 * Seals `inPath` into `outPath` atomically (temp file, fsync, rename).
 * @returns bytes written.
 * @example await encryptFile(keystore, "customers.csv", "customers.csv.pseal", { keyName: "datasets/raw", context: { stage: "landing" } });
 */
export async function encryptFile(keyring: Keyring, inPath: string, outPath: string, options: SealOptions): Promise<number> {
  await stat(inPath); // fail on a missing input before any key is touched
  return writeAtomic(outPath, sealStream(keyring, readChunks(inPath), options), 0o644);
}

/**
 * Opens `inPath` into `outPath` (mode 0600). Plaintext reaches `outPath` only if the
 * whole file authenticates: on any failure the temp file is removed and `outPath` is untouched.
 * @returns plaintext bytes written.
 */
export async function decryptFile(keyring: Keyring, inPath: string, outPath: string, options: Omit<OpenOptions, "path"> = {}): Promise<number> {
  return writeAtomic(outPath, openStream(keyring, readChunks(inPath), { ...options, path: inPath }), 0o600);
}
