import path from "node:path";
import { Command } from "commander";
import { rewrapFile, type RewrapResult } from "../../envelope/rewrap.js";
import { printable } from "../output.js";
import { emit, withKeyring } from "../session.js";

export function rewrapCommand(): Command {
  return new Command("rewrap")
    .description("rewrap sealed files' data keys under each key's primary version (the body is not touched)")
    .argument("<files...>", "sealed files")
    .option("--json", "print as JSON")
    .action(async (files: string[], _opts, cmd: Command) => {
      await withKeyring(cmd, async (ks) => {
        const results: RewrapResult[] = [];
        for (const file of files) results.push(await rewrapFile(ks, path.resolve(file)));
        emit(cmd, results, () =>
          results.map((r) => r.changes.map((c) => `${printable(r.path)}: ${printable(c.keyName)} v${c.from} -> v${c.to}`).join("\n")).join("\n"),
        );
      });
    });
}
