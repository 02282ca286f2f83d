#!/usr/bin/env node
/**
 * `npm run demo`: a small but real AI pipeline, every stage protected, ending with the four
 * answers (docs/demo.md). Options: --dir DIR (default .demo/, emptied first), --keep (leave the
 * servers running until Ctrl-C), --ui (also start the dashboard), --service (the data keys in a
 * key service on 127.0.0.1, SQLite store), --json (the result as JSON on stdout, no narration).
 */
import { existsSync, mkdirSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import path from "node:path";
import { parseArgs } from "node:util";
import { exitCodeForSignal } from "../io/signals.js";
import { layout } from "./context.js";
import { type RunResult, type Stage, runStages } from "./runner.js";
import { STAGES } from "./stages.js";
import { printSummary } from "./summary.js";

/** The file that marks a folder as the demo's own (so a rerun may empty it). */
const DEMO_MARK = ".pipeseal-demo";

/** A folder this demo (it has the mark) or the one before it (scripts/demo.sh's keystore and sealed sample) left. */
function previousDemo(root: string): boolean {
  return (
    existsSync(path.join(root, DEMO_MARK)) || (existsSync(path.join(root, ".pipeseal", "keystore.db")) && existsSync(path.join(root, "customers.csv.pseal")))
  );
}

const USAGE = "usage: npm run demo -- [--dir DIR] [--service] [--keep] [--ui] [--json]";

async function main(): Promise<number> {
  let values;
  try {
    ({ values } = parseArgs({
      options: {
        dir: { type: "string", default: ".demo" },
        keep: { type: "boolean" },
        ui: { type: "boolean" },
        service: { type: "boolean" },
        json: { type: "boolean" },
        help: { type: "boolean", short: "h" },
      },
      strict: true,
    }));
  } catch (e) {
    process.stderr.write(`pipeseal demo: ${(e as Error).message}\n${USAGE}\n`);
    return 2;
  }
  if (values.help) {
    process.stdout.write(`${USAGE}\n`);
    return 0;
  }
  const dir = layout(values.dir);
  // only a previous demo's folder (or an empty one) is emptied: `--dir ~` must not wipe a home
  if (existsSync(dir.root) && readdirSync(dir.root).length > 0 && !previousDemo(dir.root)) {
    process.stderr.write(`pipeseal demo: ${dir.root} is not empty and is not a previous demo's folder (no ${DEMO_MARK}); give an empty or new --dir\n`);
    return 2;
  }
  rmSync(dir.root, { recursive: true, force: true });
  mkdirSync(dir.root, { recursive: true, mode: 0o700 });
  writeFileSync(path.join(dir.root, DEMO_MARK), "a pipeseal demo folder: `npm run demo` empties it before each run\n");
  const json = values.json === true;
  const out = json ? () => undefined : (line: string) => void process.stdout.write(`${line}\n`);
  const stages: Stage[] = STAGES({ ui: values.ui === true });
  out(`pipeseal demo: a small AI pipeline in ${dir.root}, every stage protected`);
  const report = (r: RunResult) => (json ? void process.stdout.write(`${JSON.stringify(r, null, 2)}\n`) : printSummary(r, dir, out));
  const result = await runStages({
    dir,
    stages,
    trustDomain: "demo.pipeseal",
    keep: values.keep === true,
    service: values.service === true,
    report,
    out,
    tty: !json && process.stdout.isTTY === true,
  });
  return result.stoppedBy ? exitCodeForSignal(result.stoppedBy) : result.ok ? 0 : 1;
}

main().then(
  (code) => process.exit(code),
  (e: unknown) => {
    process.stderr.write(`pipeseal demo: ${e instanceof Error ? e.message : String(e)}\n`);
    process.exit(1);
  },
);
