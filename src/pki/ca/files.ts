/**
 * A certificate folder: `cert.pem` (leaf + issuing CA), `key.pem` (PKCS#8, mode 0600, absent
 * when the key came from a CSR) and `ca.pem` (the root, the trust anchor).
 *
 * Write order (so a reader never sees a torn file, and a mismatched pair only briefly):
 * 1. every file is written whole and fsynced into a staging folder inside `dir`
 *    (`writeAtomic`, mode 0600 for the key), so a crash while writing changes nothing;
 * 2. the files are renamed into place: `ca.pem`, then `key.pem`, then `cert.pem`, and the
 *    folder is fsynced. `cert.pem` is the commit point: a reader that reloads when
 *    `cert.pem` changes always finds the matching key already in place. A reader that loads
 *    between the two renames sees the new key with the old certificate; TLS stacks refuse
 *    that pair (node: "key values mismatch"), so readers should retry, and `renew` repairs
 *    such a folder (a crash between the renames) by renewing at once.
 */
import { mkdir, mkdtemp, open, readFile, rename, rm } from "node:fs/promises";
import path from "node:path";
import { UsageError } from "../../errors.js";
import { once, TEMP_PREFIX, writeAtomic } from "../../io/atomic.js";
import { trackTemp } from "../../io/temp-files.js";

export const CERT_FILE = "cert.pem";
export const KEY_FILE = "key.pem";
export const CA_FILE = "ca.pem";

export interface CertFiles {
  readonly certPem: string;
  readonly caPem: string;
  /** Absent when the key pair belongs to the requester (CSR). */
  readonly keyPem: string | null;
}

/**
 * Writes the folder's files in the order documented above; creates `dir` (0700) if needed.
 * @throws the file system's error (IO_ERROR at the CLI).
 */
export async function writeCertDir(dir: string, files: CertFiles): Promise<void> {
  await mkdir(dir, { recursive: true, mode: 0o700 });
  const staging = await mkdtemp(path.join(dir, `${TEMP_PREFIX}certs-`));
  const untrack = trackTemp(staging, "dir"); // holds the private key until renamed into place
  try {
    const order: [string, string, number][] = [[CA_FILE, files.caPem, 0o644]];
    if (files.keyPem !== null) order.push([KEY_FILE, files.keyPem, 0o600]);
    order.push([CERT_FILE, files.certPem, 0o644]);
    for (const [name, text, mode] of order) await writeAtomic(path.join(staging, name), once(text), mode);
    for (const [name] of order) await rename(path.join(staging, name), path.join(dir, name));
    await syncDir(dir);
  } finally {
    await rm(staging, { recursive: true, force: true });
    untrack();
  }
}

/** fsync of the folder so the renames are durable (best effort, as in writeAtomic). */
async function syncDir(dir: string): Promise<void> {
  const handle = await open(dir, "r").catch(() => undefined);
  if (!handle) return;
  await handle.sync().catch(() => undefined);
  await handle.close();
}

/**
 * Reads `<dir>/cert.pem` (and `key.pem` when present).
 * @throws UsageError(CERT_NOT_FOUND) if there is no cert.pem.
 */
export async function readCertDir(dir: string): Promise<{ certPem: string; keyPem: string | null }> {
  let certPem: string;
  try {
    certPem = await readFile(path.join(dir, CERT_FILE), "utf8");
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === "ENOENT") throw new UsageError("CERT_NOT_FOUND", `no ${CERT_FILE} in ${dir}`);
    throw e;
  }
  const keyPem = await readFile(path.join(dir, KEY_FILE), "utf8").catch((e: NodeJS.ErrnoException) => {
    if (e.code === "ENOENT") return null;
    throw e;
  });
  return { certPem, keyPem };
}
