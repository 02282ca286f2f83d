/**
 * `pipeseal dp …`: differential privacy for aggregates (src/privacy). `dp budget set|show`
 * manage a named budget in the keystore; `dp count|sum|mean|histogram|quantile` run one query
 * over a CSV, JSONL, JSON or Parquet file (sealed ones are decrypted in memory, audited), spend
 * from `--budget` before reading anything, and print the released value (`--json`: the
 * mechanism, its parameters, the noise scale and a 95% interval from the mechanism).
 * The privacy library (and its record readers) is loaded only when a dp command runs, so other
 * commands start no slower.
 */
import { Command, Option } from "commander";
import { UsageError } from "../../errors.js";
import type { RecordFormat } from "../../fields/formats/index.js";
import type { BudgetInfo, DpQuery, Filter, QueryKind, QueryResult } from "../../privacy/index.js";
import { printable } from "../output.js";
import { emit, withKeystore } from "../session.js";

const privacy = () => import("../../privacy/index.js");

const num = (text: string, what: string): number => {
  const v = Number(text);
  if (text.trim() === "" || !Number.isFinite(v)) throw new UsageError("INVALID_ARGUMENT", `${what} must be a number (got "${text}")`);
  return v;
};

function list(text: string, what: string): number[] {
  return text.split(",").map((s) => num(s, what));
}

function bounds(text: string): [number, number] {
  const m = /^(.+?):(.+)$/.exec(text);
  if (m === null) throw new UsageError("INVALID_ARGUMENT", `--bounds is lo:hi, e.g. 0:500 (got "${text}")`);
  return [num(m[1], "--bounds lo"), num(m[2], "--bounds hi")];
}

function filters(values: string[] | undefined): Filter[] {
  return (values ?? []).map((w) => {
    const i = w.indexOf("=");
    if (i < 1) throw new UsageError("INVALID_ARGUMENT", `--where is column=value (got "${w}")`);
    return { column: w.slice(0, i), value: w.slice(i + 1) };
  });
}

const fmt = (x: number) => (Number.isInteger(x) ? String(x) : String(Number(x.toPrecision(8))));

function describeBudget(b: BudgetInfo): string {
  const unit = b.kind === "zcdp" ? "ρ" : "ε";
  const limit = b.kind === "zcdp" ? `ρ ${fmt(b.rho as number)} (zCDP)` : `ε ${fmt(b.epsilon as number)}, δ ${b.delta}`;
  const lines = [`${printable(b.name)}  ${limit}  spent ${fmt(b.spent.total)} ${unit}  left ${fmt(b.spent.left)} ${unit}  ${b.spends.length} queries`];
  for (const s of b.spends) {
    lines.push(
      `  ${s.time}  ${printable(s.principal)}  ${s.mechanism}  ${s.epsilon !== undefined ? `ε ${fmt(s.epsilon)}` : `ρ ${fmt(s.rho as number)}`}  ${printable(s.query)}  ${printable(s.input)}`,
    );
  }
  return lines.join("\n");
}

function describeResult(r: QueryResult): string {
  const cost = r.epsilon !== undefined ? `ε ${fmt(r.epsilon)}` : `ρ ${fmt(r.rho as number)}${r.delta !== undefined ? ` (ε, δ=${r.delta})` : ""}`;
  const tail = `${r.mechanism}, ${cost}, noise scale ${r.parts.map((p) => fmt(p.noiseScale)).join(" / ")}`;
  const ci = (c: { lo: number; hi: number }) => `95% CI ${fmt(c.lo)} … ${fmt(c.hi)}`;
  if (r.bins) return [...r.bins.map((b) => `[${fmt(b.lo)}, ${fmt(b.hi)})  ${b.count}  (${ci(b.ci95)})`), `(${tail})`].join("\n");
  if (r.quantiles) return [...r.quantiles.map((q) => `q${q.q}  ${fmt(q.value)}  (${ci(q.ci95)})`), `(${tail})`].join("\n");
  return `${fmt(r.value as number)}  (${ci(r.ci95 as { lo: number; hi: number })}; ${tail})`;
}

interface QueryOpts {
  budget: string;
  epsilon?: string;
  delta?: string;
  rho?: string;
  mechanism?: "laplace" | "gaussian";
  where?: string[];
  privacyUnit?: string;
  maxContributions?: string;
  column?: string;
  bounds?: string;
  bins?: string;
  q?: string;
  format?: RecordFormat;
}

function queryOf(kind: QueryKind, o: QueryOpts): DpQuery {
  const k = o.maxContributions === undefined ? undefined : num(o.maxContributions, "--max-contributions");
  return {
    kind,
    ...(o.column !== undefined ? { column: o.column } : {}),
    ...(o.bounds !== undefined ? { bounds: bounds(o.bounds) } : {}),
    ...(o.bins !== undefined ? { bins: list(o.bins, "--bins") } : {}),
    ...(o.q !== undefined ? { quantiles: list(o.q, "--q") } : {}),
    where: filters(o.where),
    ...(o.privacyUnit !== undefined ? { privacyUnit: o.privacyUnit } : {}),
    ...(k !== undefined ? { maxContributions: k } : {}),
    mechanism: o.mechanism ?? "laplace",
    ...(o.epsilon !== undefined ? { epsilon: o.epsilon } : {}),
    ...(o.delta !== undefined ? { delta: num(o.delta, "--delta") } : {}),
    ...(o.rho !== undefined ? { rho: o.rho } : {}),
  };
}

// --bounds is required, but checked by planQuery rather than commander: its message says why
// (the bounds are public parameters of the mechanism), where commander's would only say "required"
const PUBLIC_BOUNDS = "required: clamp values into [lo, hi], a public range chosen without looking at the data (the noise is scaled to it)";
const QUANTILE_BOUNDS = "required: the public range [lo, hi] the quantiles are searched in, chosen without looking at the data";

function queryCommand(kind: QueryKind, what: string, extra: (c: Command) => Command): Command {
  const c = new Command(kind).description(what).argument("<input>", "a .csv, .jsonl, .json or .parquet file, plain or sealed (.pseal)");
  extra(c);
  c.requiredOption("--budget <name>", "the privacy budget to spend from (`dp budget set`)")
    .option("--epsilon <e>", "ε of this query (Laplace: pure ε-DP; Gaussian: with --delta, converted to ρ-zCDP)")
    .option("--delta <d>", "Gaussian: the δ to convert --epsilon at (default: the budget's δ)")
    .option("--rho <r>", "Gaussian: ρ (zCDP) of this query, instead of --epsilon")
    .addOption(new Option("--mechanism <m>", "noise: discrete Laplace or discrete Gaussian").choices(["laplace", "gaussian"]).default("laplace"))
    .option("--where <column=value...>", "only rows whose column equals the value (repeat: all must hold)")
    .option("--privacy-unit <column>", "the column naming whose row it is (a person); default: each row is a unit")
    .option("--max-contributions <k>", "at most k rows per privacy unit (default 1)")
    .addOption(new Option("--format <f>", "input format (default: from the extension)").choices(["csv", "jsonl", "json", "parquet"]))
    .option("--json", "print the release with its mechanism, parameters, noise scale and 95% interval as JSON")
    .action(async (input: string, opts: QueryOpts, cmd: Command) =>
      withKeystore(cmd, async (ks) => {
        const { runPrivateQuery } = await privacy();
        const result = await runPrivateQuery(ks, queryOf(kind, opts), { budget: opts.budget, input, ...(opts.format ? { format: opts.format } : {}) });
        emit(cmd, result, () => describeResult(result));
      }),
    );
  return c;
}

export function dpCommand(): Command {
  const dp = new Command("dp").description("differential privacy for aggregates: budgets, and noisy count, sum, mean, histogram, quantile (docs/privacy.md)");
  const budget = new Command("budget").description("a dataset's total privacy budget, kept and audited in the keystore");
  budget
    .command("set <name>")
    .description("create or change a budget: (ε, δ) with --epsilon [--delta], or ρ-zCDP with --rho (audited)")
    .option("--epsilon <e>", "total ε")
    .option("--delta <d>", "total δ (default 0: pure ε; Gaussian queries need δ > 0)")
    .option("--rho <r>", "total ρ of a zCDP budget, instead of --epsilon/--delta")
    .option("--json", "print as JSON")
    .action(async (name: string, opts: { epsilon?: string; delta?: string; rho?: string }, cmd: Command) =>
      withKeystore(cmd, async (ks) => {
        const { PrivacyLedger } = await privacy();
        const info = new PrivacyLedger(ks).setBudget(name, {
          ...(opts.epsilon !== undefined ? { epsilon: opts.epsilon } : {}),
          ...(opts.delta !== undefined ? { delta: num(opts.delta, "--delta") } : {}),
          ...(opts.rho !== undefined ? { rho: opts.rho } : {}),
        });
        emit(cmd, info, () => describeBudget(info));
      }),
    );
  budget
    .command("show [name]")
    .description("a budget: its limit, what was spent and is left, and every query (all budgets without a name)")
    .option("--json", "print as JSON")
    .action(async (name: string | undefined, _opts, cmd: Command) =>
      withKeystore(cmd, async (ks) => {
        const { PrivacyLedger } = await privacy();
        const ledger = new PrivacyLedger(ks);
        if (name !== undefined) {
          const info = ledger.show(name);
          emit(cmd, info, () => describeBudget(info));
        } else {
          const all = ledger.list();
          emit(cmd, all, () => all.map(describeBudget).join("\n") || "no privacy budgets");
        }
      }),
    );
  dp.addCommand(budget);
  dp.addCommand(queryCommand("count", "a noisy count of rows (optionally --where), each privacy unit counted at most --max-contributions times", (c) => c));
  dp.addCommand(
    queryCommand("sum", "a noisy sum of a column, values clamped to --bounds", (c) =>
      c.requiredOption("--column <name>", "the numeric column").option("--bounds <lo:hi>", PUBLIC_BOUNDS),
    ),
  );
  dp.addCommand(
    queryCommand("mean", "a noisy mean of a column, values clamped to --bounds (half the budget for the count, half for the sum)", (c) =>
      c.requiredOption("--column <name>", "the numeric column").option("--bounds <lo:hi>", PUBLIC_BOUNDS),
    ),
  );
  dp.addCommand(
    queryCommand("histogram", "noisy counts per bin of a column: [b0, b1) … [bn-1, bn]", (c) =>
      c.requiredOption("--column <name>", "the numeric column").requiredOption("--bins <edges>", "increasing bin edges, e.g. 0,18,30,45,65,120"),
    ),
  );
  dp.addCommand(
    queryCommand("quantile", "noisy quantiles of a column in --bounds (a quantile tree; any number of --q for one cost)", (c) =>
      c
        .requiredOption("--column <name>", "the numeric column")
        .option("--bounds <lo:hi>", QUANTILE_BOUNDS)
        .requiredOption("--q <list>", "quantiles in [0, 1], e.g. 0.5,0.9"),
    ),
  );
  return dp;
}
