import { Command } from "commander";
import { inspectFile } from "../../envelope/inspect.js";
import { formatBytes } from "../progress.js";
import { printable } from "../output.js";
import { emit } from "../session.js";
import { requireFile } from "../input.js";

export function inspectCommand(): Command {
  return new Command("inspect")
    .description("describe a sealed file from its header (needs no key, writes no audit record)")
    .argument("<file>", "sealed file")
    .option("--json", "print as JSON")
    .action(async (file: string, _opts, cmd: Command) => {
      await requireFile(file);
      const info = await inspectFile(file);
      emit(cmd, info, () =>
        [
          `file:          ${printable(file)}`,
          `format:        pipeseal v${info.formatVersion}, FLOE AES-256-GCM / HKDF-SHA-384${info.formatVersion === 1 ? " (key block not bound to the file: pipeseal rewrap --upgrade)" : ""}`,
          ...info.keys.map((k) => `wrapped by:    ${printable(k.keyName)} v${k.keyVersion} (keyring ${printable(k.keyring)})`),
          `context:       ${
            Object.entries(info.context)
              .map(([k, v]) => `${printable(k)}=${printable(v)}`)
              .join(", ") || "(none)"
          }`,
          `segments:      ${info.segmentCount} x ${formatBytes(info.segmentSize)} plaintext`,
          `plaintext:     ${info.plaintextLength} bytes (${formatBytes(info.plaintextLength)}; from file size, authenticated on open)`,
          `file size:     ${info.fileSize} bytes (header ${info.headerLength})`,
          `object id:     ${info.headerHash}`,
        ].join("\n"),
      );
    });
}
