import path from "node:path";
import { stat } from "node:fs/promises";
import { Command } from "commander";
import { UsageError } from "../../errors.js";
import { openPiped } from "../../envelope/piped.js";
import { openSealedFile } from "../../envelope/reader.js";
import { writeAtomic } from "../../io/atomic.js";
import { emit, withKeyring } from "../session.js";
import { printable, refuseOverwrite } from "../output.js";
import { openInput, writeStdout } from "../pipe-io.js";
import { requireFile } from "../input.js";

/** `OFFSET:LENGTH` in bytes. */
function parseRange(text: string): { offset: number; length: number } {
  const m = /^(\d+):(\d+)$/.exec(text);
  const offset = Number(m?.[1]);
  const length = Number(m?.[2]);
  if (!m || !Number.isSafeInteger(offset) || !Number.isSafeInteger(length)) {
    throw new UsageError("INVALID_ARGUMENT", `--range takes OFFSET:LENGTH in bytes, e.g. 1048576:65536 (got "${text}")`);
  }
  return { offset, length };
}

function defaultOutput(input: string): string {
  if (input === "-") return "-";
  if (!input.endsWith(".pseal")) throw new UsageError("INVALID_ARGUMENT", `cannot derive an output name from ${input}; give -o PATH (or -o - for stdout)`);
  return input.slice(0, -".pseal".length);
}

interface DecryptOptions {
  output?: string;
  range?: string;
  force?: boolean;
  json?: boolean;
}

export function decryptCommand(): Command {
  return new Command("decrypt")
    .description("open a sealed file or stdin; plaintext is released only once authenticated")
    .argument("<input>", "sealed file, or - for stdin")
    .option("-o, --output <path>", "output file, or - for stdout (default: input without .pseal; stdout for stdin)")
    .option("-r, --range <offset:length>", "decrypt only bytes [offset, offset+length), touching only the segments they lie in")
    .option("-f, --force", "overwrite an existing output file")
    .option("--json", "print the result as JSON")
    .action(async (input: string, opts: DecryptOptions, cmd: Command) => {
      await requireFile(input);
      const output = opts.output ?? defaultOutput(input);
      if (output !== "-") await refuseOverwrite(output, opts.force);
      const range = opts.range ? parseRange(opts.range) : undefined;
      if (range && input === "-") throw new UsageError("INVALID_ARGUMENT", "--range needs a file (random access), not stdin");
      await withKeyring(cmd, async (ks) => {
        let plaintext: AsyncIterable<Buffer>;
        let close: () => Promise<void>;
        if (range) {
          const reader = await openSealedFile(ks, path.resolve(input), { range }); // an out-of-range request unwraps nothing
          close = () => reader.close();
          plaintext = reader.readStream(range.offset, range.length);
        } else {
          const total = input === "-" ? undefined : (await stat(input)).size;
          const opened = await openInput(input, "decrypt", total);
          close = () => opened.close();
          plaintext = openPiped(ks, opened.source, input === "-" ? {} : { path: path.resolve(input) });
        }
        try {
          const written = output === "-" ? await writeStdout(plaintext) : await writeAtomic(output, plaintext, 0o600);
          if (output !== "-") emit(cmd, { output, bytes: written }, () => `opened ${printable(input)} -> ${printable(output)} (${written} bytes)`);
        } finally {
          await close();
        }
      });
    });
}
