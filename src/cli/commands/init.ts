import { Command } from "commander";
import { UsageError } from "../../errors.js";
import { initKeystore } from "../../keys/index.js";
import { DEFAULT_KEY_LABEL, parseSlot, pkcs11LocationFromEnv, readPkcs11Pin } from "../../keys/pkcs11/index.js";
import { readPassphrase } from "../passphrase.js";
import { emit, keystoreHome } from "../session.js";

interface InitOptions {
  passphrase?: boolean;
  hsm?: boolean;
  pkcs11Module?: string;
  token?: string;
  slot?: string;
  keyLabel?: string;
  pinFile?: string;
  json?: boolean;
}

export function initCommand(): Command {
  return new Command("init")
    .description(
      "create a keystore: a master key file (mode 0600), with --passphrase a passphrase-derived master key (scrypt), or with --hsm a root key generated inside an HSM (PKCS#11)",
    )
    .option("--passphrase", "derive the master key from a passphrase instead of a key file (asked on the terminal, or PIPESEAL_PASSPHRASE_FILE)")
    .option("--hsm", "keep the root key in an HSM through PKCS#11 (docs/hsm.md); it is generated in the token and never leaves it")
    .option("--pkcs11-module <path>", "PKCS#11 module (shared library) for --hsm (default: $PIPESEAL_PKCS11_MODULE)")
    .option("--token <label>", "token label for --hsm (default: $PIPESEAL_PKCS11_TOKEN)")
    .option("--slot <id>", "slot ID for --hsm, when token labels are not unique (default: $PIPESEAL_PKCS11_SLOT)")
    .option("--key-label <label>", `label of the root key in the token (default: $PIPESEAL_PKCS11_KEY_LABEL or ${DEFAULT_KEY_LABEL})`)
    .option("--pin-file <file>", "file (mode 0600) holding the token's user PIN for --hsm (default: $PIPESEAL_PKCS11_PIN_FILE); never on the command line")
    .option("--json", "print as JSON")
    .action(async (opts: InitOptions, cmd: Command) => {
      const home = keystoreHome(cmd);
      if (opts.hsm) {
        if (opts.passphrase) throw new UsageError("INVALID_ARGUMENT", "--hsm and --passphrase are exclusive");
        const env = pkcs11LocationFromEnv();
        const module = opts.pkcs11Module ?? env.module;
        if (module === undefined) throw new UsageError("INVALID_ARGUMENT", "--hsm needs --pkcs11-module (or PIPESEAL_PKCS11_MODULE)");
        const slot = parseSlot(opts.slot) ?? env.slot;
        const token = opts.token ?? env.token;
        if (token === undefined && slot === undefined) throw new UsageError("INVALID_ARGUMENT", "--hsm needs --token (or PIPESEAL_PKCS11_TOKEN) or --slot");
        const keyLabel = opts.keyLabel ?? env.keyLabel ?? DEFAULT_KEY_LABEL;
        const pin = readPkcs11Pin(opts.pinFile);
        await initKeystore(home, {
          root: { pkcs11: { module, keyLabel, pin, ...(token !== undefined ? { token } : {}), ...(slot !== undefined ? { slot } : {}) } },
        });
        emit(
          cmd,
          { home, masterKey: "hsm", pkcs11: { module, token: token ?? null, slot: slot ?? null, keyLabel } },
          () =>
            `keystore created in ${home} (root key: HSM token ${token !== undefined ? `"${token}"` : `slot ${slot}`}, key "${keyLabel}")` +
            `\nthe root key cannot be exported: back up the token with the HSM's own tools, or nothing sealed here can be opened if it is lost`,
        );
        return;
      }
      const passphrase = opts.passphrase ? await readPassphrase("New keystore passphrase: ", true) : undefined;
      await initKeystore(home, passphrase === undefined ? {} : { passphrase });
      const mode = passphrase === undefined ? "key file" : "passphrase";
      emit(
        cmd,
        { home, masterKey: mode },
        () =>
          `keystore created in ${home} (master key: ${mode})` +
          (passphrase === undefined ? `\nback up ${home}/master.key somewhere safe: without it nothing sealed here can be opened` : ""),
      );
    });
}
