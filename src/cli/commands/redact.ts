import { createReadStream } from "node:fs";
import { createInterface } from "node:readline";
import path from "node:path";
import { Readable } from "node:stream";
import { Command } from "commander";
import { UsageError } from "../../errors.js";
import { once, writeAtomic } from "../../io/atomic.js";
import type { LocalKeystore } from "../../keys/index.js";
import { OPERATORS, type Operator } from "../../redact/operators.js";
import { loadRedactPolicy, readKeyFile } from "../../redact/policy.js";
import type { RedactOptions } from "../../redact/redactor.js";
import { revealLine } from "../../redact/reveal.js";
import { createRedactStream } from "../../redact/stream.js";
import { revealToken } from "../../redact/tokenize.js";
import { refuseOverwrite, toStdout } from "../output.js";
import { withKeystore } from "../session.js";

function collect(value: string, previous: string[]): string[] {
  return [...previous, value];
}

/** `ID=OP` pairs (`default=mask`, `email=hash`). */
function parseOperators(pairs: readonly string[]): Record<string, Operator> {
  const out: Record<string, Operator> = {};
  for (const p of pairs) {
    const m = /^([a-z0-9-]+)=([a-z]+)$/.exec(p);
    if (!m || !OPERATORS.includes(m[2] as Operator))
      throw new UsageError("INVALID_ARGUMENT", `--operator takes DETECTOR=OP with OP one of ${OPERATORS.join(", ")} (got "${p}")`);
    out[m[1]] = m[2] as Operator;
  }
  return out;
}

async function* reveal(ks: LocalKeystore, source: NodeJS.ReadableStream, where: string | undefined): AsyncGenerator<Buffer> {
  const lines = createInterface({ input: source, crlfDelay: Infinity });
  for await (const line of lines) yield Buffer.from((await revealLine(ks, line, where)) + "\n");
}

interface RedactCommandOptions {
  output: string;
  force?: boolean;
  policy?: string;
  operator: string[];
  hashKeyFile?: string;
  encryptKey?: string;
  tokenizeKey?: string;
  revealToken?: string;
  detector?: string;
  keyVersion?: string;
  minConfidence?: string;
  reveal?: boolean;
  jsonStats?: boolean;
}

export function redactCommand(): Command {
  return new Command("redact")
    .description(
      "redact PII and secrets from a log file or stdin, line by line (JSON lines field-aware); --reveal opens [ENC:…] values, --reveal-token one tokenize token",
    )
    .argument("[input]", "file, or - for stdin", "-")
    .option("-o, --output <path>", "output file, or - for stdout (default: stdout)", "-")
    .option("-f, --force", "overwrite an existing output file")
    .option("--policy <file.json>", "redaction policy (operators, custom detectors, allow-lists)")
    .option("--operator <detector=op>", "operator per detector id or `default` (redact, mask, hash, encrypt, tokenize); repeatable", collect, [])
    .option("--hash-key-file <path>", "32-byte key for the hash operator (raw or hex)")
    .option("--encrypt-key <name>", "keystore key for the encrypt operator")
    .option("--tokenize-key <name>", "keystore key for the tokenize operator (and for --reveal-token)")
    .option("--reveal-token <token>", "reverse one token of the tokenize operator (audited); needs --detector and --tokenize-key")
    .option("--detector <id>", "with --reveal-token: the detector the token was made for (e.g. credit-card or card, email)")
    .option("--key-version <n>", "with --reveal-token: key version the token was made under (tokens carry none; default: the primary)")
    .option("--min-confidence <n>", "drop findings below this confidence (default 0.5)")
    .option("--reveal", "open [ENC:…] values through the keystore (audited) instead of redacting")
    .option("--json-stats", "print counts per detector as JSON on stderr when done")
    .action(async (input: string, opts: RedactCommandOptions, cmd: Command) => {
      const output = opts.output;
      if (output !== "-") await refuseOverwrite(output, opts.force);
      const open = (): NodeJS.ReadableStream => (input === "-" ? process.stdin : createReadStream(input, { highWaterMark: 1 << 20 }));
      const write = (chunks: AsyncIterable<Uint8Array>): Promise<number> => (output === "-" ? toStdout(chunks) : writeAtomic(output, chunks, 0o600));

      const token = opts.revealToken;
      if (token !== undefined) {
        const fromPolicy = opts.policy ? loadRedactPolicy(opts.policy) : undefined;
        const keyName: string | undefined = opts.tokenizeKey ?? fromPolicy?.tokenizeKey;
        const detector = opts.detector;
        if (!keyName || !detector) throw new UsageError("INVALID_ARGUMENT", "--reveal-token needs --detector ID and --tokenize-key NAME");
        let version: number | "primary" = "primary";
        if (opts.keyVersion !== undefined) {
          version = Number(opts.keyVersion);
          if (!/^[1-9][0-9]{0,8}$/.test(String(opts.keyVersion))) throw new UsageError("INVALID_ARGUMENT", "--key-version must be a positive integer");
        }
        await withKeystore(cmd, async (ks) => {
          const plain = await revealToken(ks, { keyName, version, detector, token, ...(input === "-" ? {} : { path: path.resolve(input) }) });
          await write(once(plain + "\n"));
        });
        return;
      }

      if (opts.reveal) {
        await withKeystore(cmd, async (ks) => {
          await write(reveal(ks, open(), input === "-" ? undefined : path.resolve(input)));
        });
        return;
      }

      const fromPolicy = opts.policy ? loadRedactPolicy(opts.policy) : { options: {} as RedactOptions };
      const operators = { ...(fromPolicy.options.operators ?? {}), ...parseOperators(opts.operator) };
      const options: RedactOptions = {
        ...fromPolicy.options,
        operators,
        ...(opts.hashKeyFile ? { hashKey: readKeyFile(opts.hashKeyFile) } : {}),
        ...(opts.minConfidence !== undefined ? { minConfidence: Number(opts.minConfidence) } : {}),
      };
      const encryptKey: string | undefined = opts.encryptKey ?? fromPolicy.encryptKey;
      const usesEncrypt = Object.values(operators).includes("encrypt");
      if (usesEncrypt && !encryptKey) throw new UsageError("INVALID_ARGUMENT", "the encrypt operator needs --encrypt-key NAME (or encryptKey in the policy)");
      const tokenizeKey: string | undefined = opts.tokenizeKey ?? fromPolicy.tokenizeKey;
      const usesTokenize = Object.values(operators).includes("tokenize");
      if (usesTokenize && !tokenizeKey)
        throw new UsageError("INVALID_ARGUMENT", "the tokenize operator needs --tokenize-key NAME (or tokenizeKey in the policy)");
      const where = input === "-" ? {} : { path: path.resolve(input) };

      const run = async (ks?: LocalKeystore): Promise<void> => {
        const stream = createRedactStream({
          ...options,
          ...(ks && usesEncrypt && encryptKey ? { encrypt: { keyring: ks, keyName: encryptKey } } : {}),
          ...(ks && usesTokenize && tokenizeKey ? { tokenize: { keyring: ks, keyName: tokenizeKey, ...where } } : {}),
        });
        const piped = (open() as Readable).pipe(stream);
        await write(piped);
        if (opts.jsonStats) process.stderr.write(JSON.stringify(stream.redactor.stats) + "\n");
      };
      if (usesEncrypt || usesTokenize) await withKeystore(cmd, (ks) => run(ks));
      else await run();
    });
}
