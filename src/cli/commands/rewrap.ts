import path from "node:path";
import { Command } from "commander";
import { rewrapFile, type RewrapResult } from "../../envelope/rewrap.js";
import { type ErrorCode, PipesealError } from "../../errors.js";
import { printable } from "../output.js";
import { emit, withKeyring } from "../session.js";

function describe(r: RewrapResult): string {
  const lines = r.changes.map((c) => `${printable(r.path)}: ${printable(c.keyName)} v${c.from} -> v${c.to}`);
  if (r.upgraded) lines.push(`${printable(r.path)}: upgraded to format v2 (key block bound to the file; body untouched)`);
  for (const k of r.kept) lines.push(`${printable(r.path)}: ${printable(k.keyName)} v${k.version} kept as it was (${k.code}: ${printable(k.message)})`);
  if (r.kept.length > 0)
    lines.push(
      `${printable(r.path)}: ${r.written ? `written with ${r.changes.length} of ${r.changes.length + r.kept.length} entries rewrapped` : "not written: no entry could be rewrapped"}`,
    );
  return lines.join("\n");
}

export function rewrapCommand(): Command {
  return new Command("rewrap")
    .description(
      "rewrap sealed files' data keys under each key's primary version (the body is not touched); an entry that cannot be rewrapped is kept as it was, reported, and makes the exit status non-zero",
    )
    .argument("<files...>", "sealed files")
    .option("--upgrade", "also turn format v1 files into v2 (every entry bound to its file, the key block authenticated; the body is not touched)")
    .option("--json", "print as JSON")
    .action(async (files: string[], opts: { upgrade?: boolean }, cmd: Command) => {
      await withKeyring(cmd, async (ks) => {
        const results: RewrapResult[] = [];
        try {
          for (const file of files) results.push(await rewrapFile(ks, path.resolve(file), { upgrade: opts.upgrade === true }));
        } finally {
          // what was done is printed even if a later file stops the run
          emit(cmd, results, () =>
            results
              .map(describe)
              .filter((s) => s !== "")
              .join("\n"),
          );
        }
        const kept = results.flatMap((r) => r.kept.map((k) => ({ ...k, path: r.path })));
        if (kept.length > 0) {
          const first = kept[0];
          throw new PipesealError(
            first.code as ErrorCode,
            `${kept.length} entr${kept.length === 1 ? "y" : "ies"} could not be rewrapped and ${kept.length === 1 ? "was" : "were"} kept as ${kept.length === 1 ? "it was" : "they were"} (first: ${first.path}: ${first.keyName} v${first.version})`,
          );
        }
      });
    });
}
