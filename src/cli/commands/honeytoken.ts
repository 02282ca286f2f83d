import { Command } from "commander";
import { UsageError } from "../../errors.js";
import { parseContextArg } from "../../keys/context.js";
import { plantDecoy } from "../../monitor/honeytoken/plant.js";
import { listDecoys } from "../../monitor/honeytoken/registry.js";
import { printable, refuseOverwrite } from "../output.js";
import { emit, withKeystore } from "../session.js";

const FORMATS = ["csv", "jsonl"] as const;
const isFormat = (f: string): f is (typeof FORMATS)[number] => (FORMATS as readonly string[]).includes(f);

interface PlantOptions {
  key: string;
  out: string;
  rows: string;
  format?: string;
  context: string;
  force?: boolean;
  json?: boolean;
}

export function honeytokenCommand(): Command {
  const ht = new Command("honeytoken").description("decoys that no legitimate job opens: any use is a critical monitor alert (docs/monitor.md)");
  ht.command("plant")
    .description("seal a realistic decoy of fake rows under a real key and record it, so `monitor run` alerts when it is opened; the file carries no marker")
    .requiredOption("-k, --key <name>", "the real key the decoy is sealed under (the key of the data it sits next to)")
    .requiredOption("-o, --out <file>", "where to write it, named like the real data (e.g. customers/part-0007.csv.pseal)")
    .option("--rows <n>", "fake rows", "1000")
    .option("--format <format>", "csv or jsonl (default: from the name, else csv)")
    .option("-c, --context <pairs>", "encryption context, as the real files have it, e.g. dataset=customers,stage=landing", "")
    .option("-f, --force", "replace an existing file")
    .option("--json", "print the result as JSON")
    .action(async (opts: PlantOptions, cmd: Command) => {
      const rows = /^[0-9]{1,9}$/.test(opts.rows) ? Number(opts.rows) : NaN;
      const format = opts.format;
      if (format !== undefined && !isFormat(format)) throw new UsageError("INVALID_ARGUMENT", "--format is csv or jsonl");
      const context = parseContextArg(opts.context);
      await refuseOverwrite(opts.out, opts.force);
      await withKeystore(cmd, async (ks) => {
        const d = await plantDecoy(ks, {
          key: opts.key,
          out: opts.out,
          rows,
          ...(format ? { format } : {}),
          ...(Object.keys(context).length > 0 ? { context } : {}),
        });
        emit(
          cmd,
          { id: d.id, key: d.key, path: d.path, rows: d.rows, format: d.format, createdAt: d.createdAt },
          () => `planted decoy ${d.id}: ${d.rows} ${d.format} rows under ${printable(d.key)} in ${printable(opts.out)}`,
        );
      });
    });
  ht.command("list")
    .description("the planted decoys this keystore knows")
    .option("--json", "print as JSON")
    .action(async (_opts: unknown, cmd: Command) =>
      withKeystore(cmd, async (ks) => {
        const all = listDecoys(ks).map((d) => ({ id: d.id, key: d.key, path: d.path, rows: d.rows, format: d.format, createdAt: d.createdAt }));
        emit(
          cmd,
          all,
          () =>
            all.map((d) => `${d.id}  ${printable(d.key)}  ${d.rows} ${d.format} rows  ${d.createdAt}  ${printable(d.path)}`).join("\n") || "no decoys planted",
        );
      }),
    );
  return ht;
}
