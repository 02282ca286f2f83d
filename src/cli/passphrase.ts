import { readSecretFile } from "../io/secret-file.js";
import { createInterface } from "node:readline";
import { KeystoreError } from "../errors.js";

/**
 * Where a passphrase may come from, in order: a file named by PIPESEAL_PASSPHRASE_FILE (mode
 * 0600: readable by group or others is refused);
 * the PIPESEAL_PASSPHRASE variable, only if PIPESEAL_ALLOW_ENV_PASSPHRASE=1 (environments
 * leak through /proc and crash dumps, so it takes an explicit opt-in); a terminal prompt.
 * Never from argv.
 */
export async function readPassphrase(prompt: string, confirm = false): Promise<string> {
  const file = process.env.PIPESEAL_PASSPHRASE_FILE;
  if (file) return readSecretFile(file, "passphrase file"); // refused if group or others can read it, as master.key is
  if (process.env.PIPESEAL_PASSPHRASE !== undefined) {
    if (process.env.PIPESEAL_ALLOW_ENV_PASSPHRASE === "1") return process.env.PIPESEAL_PASSPHRASE;
    throw new KeystoreError(
      "MASTER_KEY_UNAVAILABLE",
      "PIPESEAL_PASSPHRASE is set but ignored; set PIPESEAL_ALLOW_ENV_PASSPHRASE=1 to opt in, or use PIPESEAL_PASSPHRASE_FILE",
    );
  }
  if (!process.stdin.isTTY) {
    throw new KeystoreError("MASTER_KEY_UNAVAILABLE", "this keystore needs its passphrase: run on a terminal, or set PIPESEAL_PASSPHRASE_FILE");
  }
  const first = await promptHidden(prompt);
  if (confirm && (await promptHidden("Repeat passphrase: ")) !== first) {
    throw new KeystoreError("MASTER_KEY_UNAVAILABLE", "the passphrases do not match");
  }
  return first;
}

export function promptHidden(prompt: string): Promise<string> {
  return new Promise((resolve) => {
    const rl = createInterface({ input: process.stdin, output: process.stderr, terminal: true });
    process.stderr.write(prompt);
    // mute echo: readline writes typed characters through _writeToOutput
    (rl as unknown as { _writeToOutput: (s: string) => void })._writeToOutput = () => undefined;
    rl.question("", (answer) => {
      rl.close();
      process.stderr.write("\n");
      resolve(answer);
    });
  });
}

/** Asks a yes/no question on the terminal. */
export function confirmOnTerminal(question: string, expected: string): Promise<boolean> {
  return new Promise((resolve) => {
    const rl = createInterface({ input: process.stdin, output: process.stderr });
    rl.question(question, (answer) => {
      rl.close();
      resolve(answer.trim() === expected);
    });
  });
}
