import { stat } from "node:fs/promises";
import { Command } from "commander";
import { UsageError } from "../../errors.js";
import { parseContextArg } from "../../keys/context.js";
import { DEFAULT_SEGMENT_SIZE } from "../../envelope/seal.js";
import { sealPiped } from "../../envelope/piped.js";
import { writeAtomic } from "../../io/atomic.js";
import { emit, withKeyring } from "../session.js";
import { printable, refuseOverwrite } from "../output.js";
import { openInput, writeStdout } from "../pipe-io.js";
import { refuseBinaryToTerminal, requireFile } from "../input.js";

interface EncryptOptions {
  key: string[];
  context: string;
  output?: string;
  segmentSize: string;
  force?: boolean;
  json?: boolean;
}

export function encryptCommand(): Command {
  return new Command("encrypt")
    .description("seal a file or stdin under a named key (writes <input>.pseal by default)")
    .argument("<input>", "file to seal, or - for stdin")
    .requiredOption("-k, --key <name>", "key name to wrap the data key under (repeat for several)", (v: string, all: string[] = []) => [...all, v])
    .option("-c, --context <pairs>", "encryption context, e.g. stage=landing,dataset=customers", "")
    .option("-o, --output <path>", "output file, or - for stdout (default: <input>.pseal; stdout for stdin)")
    .option("--segment-size <bytes>", "plaintext bytes per segment", String(DEFAULT_SEGMENT_SIZE))
    .option("-f, --force", "overwrite an existing output file (or write ciphertext to a terminal)")
    .option("--json", "print the result as JSON")
    .action(async (input: string, opts: EncryptOptions, cmd: Command) => {
      const context = parseContextArg(opts.context);
      const segmentSize = Number(opts.segmentSize);
      if (!Number.isInteger(segmentSize)) throw new UsageError("INVALID_ARGUMENT", "--segment-size must be a whole number of bytes");
      const output = opts.output ?? (input === "-" ? "-" : `${input}.pseal`);
      await requireFile(input);
      if (output !== "-") await refuseOverwrite(output, opts.force);
      else refuseBinaryToTerminal(opts.force);
      const total = input === "-" ? undefined : (await stat(input)).size;
      const { source, close } = await openInput(input, "encrypt", total);
      try {
        await withKeyring(cmd, async (ks) => {
          const sealed = sealPiped(ks, source, { keyName: opts.key, context, segmentSize });
          const written = output === "-" ? await writeStdout(sealed) : await writeAtomic(output, sealed, 0o644);
          if (output !== "-")
            emit(
              cmd,
              { output, bytes: written, keys: opts.key, context },
              () => `sealed ${printable(input)} -> ${printable(output)} (${written} bytes) under ${opts.key.map(printable).join(", ")}`,
            );
        });
      } finally {
        await close();
      }
    });
}
