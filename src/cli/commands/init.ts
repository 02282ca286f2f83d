import { Command } from "commander";
import { initKeystore } from "../../keys/index.js";
import { readPassphrase } from "../passphrase.js";
import { emit, keystoreHome } from "../session.js";

export function initCommand(): Command {
  return new Command("init")
    .description("create a keystore: a master key file (mode 0600) or, with --passphrase, a passphrase-derived master key (scrypt)")
    .option("--passphrase", "derive the master key from a passphrase instead of a key file (asked on the terminal, or PIPESEAL_PASSPHRASE_FILE)")
    .option("--json", "print as JSON")
    .action(async (opts, cmd: Command) => {
      const home = keystoreHome(cmd);
      const passphrase = opts.passphrase ? await readPassphrase("New keystore passphrase: ", true) : undefined;
      await initKeystore(home, passphrase === undefined ? {} : { passphrase });
      const mode = passphrase === undefined ? "key file" : "passphrase";
      emit(cmd, { home, masterKey: mode }, () =>
        `keystore created in ${home} (master key: ${mode})` +
          (passphrase === undefined ? `\nback up ${home}/master.key somewhere safe: without it nothing sealed here can be opened` : ""),
      );
    });
}
