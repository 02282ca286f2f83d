import { Command } from "commander";
import { FieldError } from "../../fields/errors.js";
import { checkFields } from "../../fields/check.js";
import { FORMATS, type RecordFormat } from "../../fields/formats/index.js";
import { loadFieldPolicy } from "../../fields/policy.js";
import type { FieldOperation } from "../../fields/protector.js";
import { runFields } from "../../fields/run.js";
import { EXIT } from "../exit-codes.js";
import { printable, refuseOverwrite } from "../output.js";
import { emit, withKeystore } from "../session.js";

function format(v: string | undefined): RecordFormat | undefined {
  if (v === undefined) return undefined;
  if (!(FORMATS as readonly string[]).includes(v)) throw new FieldError("INVALID_ARGUMENT", `--format must be one of ${FORMATS.join(", ")}`);
  return v as RecordFormat;
}

interface RunOptions {
  policy: string;
  output: string;
  format?: string;
  onError: string;
  force?: boolean;
  json?: boolean;
}
interface CheckOptions {
  policy: string;
  format?: string;
  sample: string;
  json?: boolean;
}

function runner(op: FieldOperation, description: string): Command {
  return new Command(op)
    .description(description)
    .requiredOption("--policy <fields.yaml>", "field policy")
    .argument("[input]", "input file (.jsonl .json .csv .parquet), or - for stdin", "-")
    .option("-o, --output <path>", "output file, or - for stdout", "-")
    .option("--format <fmt>", `record format (${FORMATS.join("|")}); required for stdin`)
    .option("--on-error <mode>", "fail (default) or skip malformed rows (counted)", "fail")
    .option("-f, --force", "overwrite an existing output file")
    .option("--json", "print the run's counts as JSON on stderr")
    .action(async (input: string, opts: RunOptions, cmd: Command) => {
      const onError = opts.onError;
      if (onError !== "fail" && onError !== "skip") throw new FieldError("INVALID_ARGUMENT", "--on-error takes fail or skip");
      if (opts.output !== "-") await refuseOverwrite(opts.output, opts.force);
      const policy = loadFieldPolicy(opts.policy);
      const stats = await withKeystore(cmd, (ks) =>
        runFields(op, { policy, keyring: ks, input, output: opts.output, ...(format(opts.format) ? { format: format(opts.format)! } : {}), onError }),
      );
      const absent = Object.entries(stats.absent)
        .map(([f, n]) => `${printable(f)}: ${n}`)
        .join(", ");
      process.stderr.write(
        opts.json
          ? JSON.stringify(stats) + "\n"
          : `fields ${op}: ${stats.rows} rows, ${
              Object.entries(stats.values)
                .map(([a, n]) => `${n} ${a}`)
                .join(", ") || "no values changed"
            }` +
              (stats.skipped ? `, ${stats.skipped} skipped (first: row ${stats.errors[0]?.row}: ${printable(stats.errors[0]?.message)})` : "") +
              (stats.erased ? `, ${stats.erased} erased` : "") +
              (absent ? `; absent — ${absent}` : "") +
              "\n",
      );
    });
}

export function fieldsCommand(): Command {
  const cmd = new Command("fields").description(
    "field-level protection for records (JSONL, JSON, CSV, Parquet): encrypt, deterministic, tokenize, pseudonymize, mask, drop",
  );
  cmd.addCommand(runner("apply", "protect the fields a policy names"));
  cmd.addCommand(runner("reveal", "reverse what is reversible (encrypt, deterministic, tokenize); audited"));
  cmd.addCommand(runner("rewrap", "move encrypted/deterministic values to the key's primary version (tokens: from previousVersion)"));
  cmd.addCommand(
    new Command("check")
      .description("list fields the policy does not cover that look like personal data")
      .requiredOption("--policy <fields.yaml>", "field policy")
      .argument("[input]", "input file, or - for stdin", "-")
      .option("--format <fmt>", `record format (${FORMATS.join("|")})`)
      .option("--sample <n>", "rows to sample", "1000")
      .option("--json", "JSON output")
      .action(async (input: string, opts: CheckOptions, c: Command) => {
        const result = await checkFields(loadFieldPolicy(opts.policy), input, {
          ...(format(opts.format) ? { format: format(opts.format)! } : {}),
          sample: Number(opts.sample),
        });
        emit(c, result, () =>
          result.findings.length === 0
            ? `no uncovered PII-looking fields (${result.fieldsSeen} fields, ${result.rowsSampled} rows sampled)`
            : result.findings.map((f) => `${printable(f.field)}: ${f.reasons.map(printable).join("; ")}`).join("\n") +
              `\n${result.findings.length} uncovered field(s) look like personal data`,
        );
        if (result.findings.length > 0) process.exitCode = EXIT.findings;
      }),
  );
  return cmd;
}
