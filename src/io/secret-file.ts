/**
 * Reading a secret from a file (a passphrase, an HSM PIN): one rule for every such file, the
 * rule master.key follows. A file group or others can read is refused, since anyone who can
 * read it holds the keystore's root. One trailing newline is dropped (`echo` adds one).
 */
import { readFileSync, statSync } from "node:fs";
import { KeystoreError } from "../errors.js";

/**
 * @param what how the message names the file, e.g. "passphrase file"
 * @throws KeystoreError(MASTER_KEY_INSECURE) if group or others can read or write it;
 *   KeystoreError(MASTER_KEY_UNAVAILABLE) if it cannot be read or is empty.
 */
export function readSecretFile(file: string, what: string): string {
  let mode: number;
  try {
    mode = statSync(file).mode;
  } catch (e) {
    throw new KeystoreError("MASTER_KEY_UNAVAILABLE", `the ${what} ${file} could not be read`, { cause: e });
  }
  if ((mode & 0o077) !== 0) throw new KeystoreError("MASTER_KEY_INSECURE", `the ${what} ${file} is accessible by group or others; run: chmod 600 ${file}`);
  let text: string;
  try {
    text = readFileSync(file, "utf8").replace(/\r?\n$/, "");
  } catch (e) {
    throw new KeystoreError("MASTER_KEY_UNAVAILABLE", `the ${what} ${file} could not be read`, { cause: e });
  }
  if (text === "") throw new KeystoreError("MASTER_KEY_UNAVAILABLE", `the ${what} ${file} is empty`);
  return text;
}
