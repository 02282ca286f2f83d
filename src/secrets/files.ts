/**
 * `--secret-file`: a secret handed to the child as a path to a file holding it.
 *
 * A regular file on tmpfs (/dev/shm), mode 0600 in a private 0700 folder, removed (after being
 * overwritten with zeros) when the child exits. Not a FIFO: python-dotenv, the Google auth
 * libraries and many SDKs stat the file, open it more than once or read it lazily, and a FIFO
 * yields its content once, to the first reader, and blocks the rest. Not a memfd
 * (/proc/self/fd/N): Node cannot create one, and the path would only be valid in the child.
 * tmpfs keeps the bytes in memory (they can reach swap, like any process memory); when
 * /dev/shm is missing the folder is made in the system temp folder, with a warning, because
 * that is usually a disk.
 */
import { randomBytes } from "node:crypto";
import { closeSync, constants, existsSync, mkdtempSync, openSync, rmSync, statSync, writeSync } from "node:fs";
import os from "node:os";
import path from "node:path";

export interface SecretFiles {
  readonly dir: string;
  /** True when the folder is on tmpfs (/dev/shm). */
  readonly inMemory: boolean;
  /** Writes `value` to a new 0600 file and returns its path. */
  add(fileName: string, value: Buffer): string;
  /** Overwrites every file with zeros and removes the folder. Idempotent; never throws. */
  remove(): void;
}

export function createSecretFiles(shm = "/dev/shm"): SecretFiles {
  const inMemory = existsSync(shm) && statSync(shm).isDirectory();
  const dir = mkdtempSync(path.join(inMemory ? shm : os.tmpdir(), "pipeseal-run-")); // mkdtemp makes it 0700
  const files: { file: string; size: number }[] = [];
  let removed = false;
  return {
    dir,
    inMemory,
    add(fileName, value) {
      const file = path.join(dir, `${fileName}-${randomBytes(4).toString("hex")}`);
      const fd = openSync(file, constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL | constants.O_NOFOLLOW, 0o600);
      try {
        for (let off = 0; off < value.length;) off += writeSync(fd, value, off, value.length - off);
      } finally {
        closeSync(fd);
      }
      files.push({ file, size: value.length });
      return file;
    },
    remove() {
      if (removed) return;
      removed = true;
      for (const f of files) {
        try {
          const fd = openSync(f.file, constants.O_WRONLY | constants.O_NOFOLLOW);
          writeSync(fd, Buffer.alloc(f.size));
          closeSync(fd);
        } catch {
          // the child may have removed or replaced it; the folder goes anyway
        }
      }
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
