/**
 * The SQLite store's commit durability, off the event loop: fdatasync of the keystore's WAL
 * file on the libuv thread pool (see sqlite.ts). A WAL file replaced behind our back (same
 * path, another inode: someone switched the journal mode, or deleted it) would make the sync
 * flush a dead file, so the inode is checked first and a mismatch fails closed.
 */
import { closeSync, fdatasync, fstatSync, openSync, statSync } from "node:fs";
import { promisify } from "node:util";

const datasync = promisify(fdatasync);

export class WalSync {
  readonly #path: string;
  /** Opened read-only: fdatasync needs no write access. */
  readonly #fd: number;
  readonly #ino: number;

  /** @throws the fs error if the WAL file does not exist (the keystore must be in WAL mode and open). */
  constructor(path: string) {
    this.#path = path;
    this.#fd = openSync(path, "r");
    this.#ino = fstatSync(this.#fd).ino;
  }

  /** Resolves once every commit made so far is on disk. @throws if the WAL was replaced or the sync failed. */
  async sync(): Promise<void> {
    if (statSync(this.#path, { throwIfNoEntry: false })?.ino !== this.#ino)
      throw new Error("the keystore WAL file was replaced; commits cannot be made durable");
    await datasync(this.#fd);
  }

  close(): void {
    closeSync(this.#fd);
  }
}
