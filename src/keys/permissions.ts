/**
 * File-system permissions a keystore relies on, checked on every open (and at init) as the
 * master key file's are. Whoever can write the keystore folder can swap in their own
 * keystore.db and master.key (a keystore they hold the key to, or an older copy), so a folder
 * writable by group or others, or owned by another user, is refused; so is a keystore.db
 * others can write. A keystore.db others can read gets a warning, once per process: it holds
 * only sealed keys, but also the audit log (object paths, principals, contexts).
 */
import { statSync, type Stats } from "node:fs";
import { KeystoreError } from "../errors.js";

const warned = new Set<string>();

const octal = (mode: number) => "0" + (mode & 0o777).toString(8);

function owner(st: Stats): string | null {
  const uid = typeof process.getuid === "function" ? process.getuid() : null;
  return uid === null || st.uid === uid || st.uid === 0 ? null : `uid ${st.uid}`;
}

/**
 * @throws KeystoreError(KEYSTORE_INSECURE) if `home` is writable by group or others, or owned
 *   by a user other than this one (or root). A missing folder is left to the caller.
 */
export function checkKeystoreFolder(home: string): void {
  const st = statSync(home, { throwIfNoEntry: false });
  if (!st?.isDirectory()) return;
  if ((st.mode & 0o022) !== 0) {
    throw new KeystoreError(
      "KEYSTORE_INSECURE",
      `the keystore folder ${home} is writable by group or others (mode ${octal(st.mode)}), so another user could replace its database or master key; run: chmod 700 ${home}`,
    );
  }
  const other = owner(st);
  if (other)
    throw new KeystoreError(
      "KEYSTORE_INSECURE",
      `the keystore folder ${home} belongs to ${other}, not to you, so that user could replace its database or master key; run: chown $(id -u) ${home}`,
    );
}

/**
 * @throws KeystoreError(KEYSTORE_INSECURE) if `dbFile` is writable by group or others.
 * Calls `warn` (once per file per process) if group or others can read it.
 */
export function checkKeystoreDbFile(dbFile: string, warn: (message: string) => void): void {
  const st = statSync(dbFile, { throwIfNoEntry: false });
  if (!st) return;
  if ((st.mode & 0o022) !== 0) {
    throw new KeystoreError(
      "KEYSTORE_INSECURE",
      `the keystore database ${dbFile} is writable by group or others (mode ${octal(st.mode)}); run: chmod 600 ${dbFile}`,
    );
  }
  if ((st.mode & 0o044) !== 0 && !warned.has(dbFile)) {
    warned.add(dbFile);
    warn(
      `the keystore database ${dbFile} is readable by group or others (mode ${octal(st.mode)}): its keys are sealed, but its audit log names objects and principals; run: chmod 600 ${dbFile}`,
    );
  }
}
