/** `pipeseal posture init | check | explain`: the pipeline map, its checks, the report. */
import { existsSync } from "node:fs";
import path from "node:path";
import { pathToFileURL } from "node:url";
import { Command } from "commander";
import { once, writeAtomic } from "../../io/atomic.js";
import { RemoteKeyring } from "../../client/remote-keyring.js";
import {
  MAP_TEMPLATE,
  SEVERITIES,
  checkDefinitions,
  checkPosture,
  explainCheck,
  findingsAtOrAbove,
  formatDefinition,
  keystoreSource,
  loadMap,
  readPostureBaseline,
  renderTerminal,
  serviceSource,
  toPostureSarif,
  type KeySource,
  type PipelineMap,
  type Severity,
} from "../../posture/index.js";
import { renderHtml } from "../../posture/report/html.js";
import { EXIT } from "../exit-codes.js";
import { failOnArg } from "../severity.js";
import { keystoreHome, openLocalKeystore } from "../session.js";

/** Opens what `keys:` names (or --home / PIPESEAL_HOME), read-only; null when there is no keystore. */
async function openKeys(map: PipelineMap, cmd: Command): Promise<{ source: KeySource | null; close: () => Promise<void> }> {
  if (map.keys.server) {
    const remote = new RemoteKeyring({ url: map.keys.server, certDir: map.keys.certDir! });
    return { source: serviceSource(remote, map.keys.server), close: () => remote.close() };
  }
  const home = map.keys.home ?? keystoreHome(cmd);
  if (!existsSync(path.join(home, "keystore.db"))) return { source: null, close: () => Promise.resolve() };
  const ks = await openLocalKeystore(home, { principal: "pipeseal-posture" });
  return { source: keystoreSource(ks, home), close: () => Promise.resolve(ks.close()) };
}

/** Resolves once the text is handed to the OS: main.ts exits right after, and a large report to a pipe would be cut short. */
function print(text: string): Promise<void> {
  return new Promise((resolve, reject) => process.stdout.write(text, (e) => (e ? reject(e) : resolve())));
}

function progressLine(): ((n: number) => void) | undefined {
  if (!process.stderr.isTTY) return undefined;
  let last = 0;
  return (n) => {
    if (Date.now() - last < 100) return;
    last = Date.now();
    process.stderr.write(`\rposture: ${n} examined\x1b[K`);
  };
}

interface CheckOpts {
  json?: boolean;
  sarif?: string;
  html?: string;
  baseline?: string;
  failOn: string;
}

function checkCommand(): Command {
  return new Command("check")
    .description("verify the pipeline map against the real files, keys, audit log and endpoints; exits 8 when findings reach --fail-on")
    .argument("<map>", "the pipeline map (pipeline.yaml)")
    .option("--json", "print the report as JSON (the PostureReport)")
    .option("--sarif <file>", "also write a SARIF 2.1.0 log")
    .option("--html <file>", "also write a self-contained HTML report")
    .option("--baseline <file>", "a previous --json report: show what was added and fixed since; --fail-on then counts only new findings")
    .option("--fail-on <severity>", `exit 8 when a finding is at or above this severity (${SEVERITIES.join(", ")})`, "low")
    .action(async (mapFile: string, opts: CheckOpts, cmd: Command) => {
      failOnArg(opts.failOn, SEVERITIES); // a bad --fail-on fails before any check runs
      const failOn = opts.failOn as Severity;
      const map = await loadMap(mapFile);
      const baseline = opts.baseline ? await readPostureBaseline(opts.baseline) : undefined;
      const keys = await openKeys(map, cmd);
      const progress = progressLine();
      let report;
      try {
        report = await checkPosture(map, { keys: keys.source, mapPath: mapFile, ...(baseline ? { baseline } : {}), ...(progress ? { progress } : {}) });
      } finally {
        if (progress) process.stderr.write("\r\x1b[K");
        await keys.close();
      }
      if (opts.sarif) await writeAtomic(opts.sarif, once(JSON.stringify(toPostureSarif(report, pathToFileURL(map.baseDir).href), null, 2) + "\n"), 0o644);
      if (opts.html) await writeAtomic(opts.html, once(renderHtml(report)), 0o644);
      await print(opts.json ? JSON.stringify(report, null, 2) + "\n" : renderTerminal(report));
      if (findingsAtOrAbove(report, failOn).length > 0) process.exitCode = EXIT.findings; // a result, not an error
    });
}

export function postureCommand(): Command {
  const posture = new Command("posture").description(
    "map the pipeline, verify it, and answer: which keys, who can decrypt, where plaintext is, what is retained",
  );
  posture.addCommand(
    new Command("init").description("print a commented starting map with the eight stages (pipeseal posture init > pipeline.yaml)").action(() => {
      process.stdout.write(MAP_TEMPLATE);
    }),
  );
  posture.addCommand(checkCommand());
  posture.addCommand(
    new Command("explain")
      .description("what a check verifies, its limits and how to fix its findings")
      .argument("[check-id]", "e.g. REST-PLAINTEXT")
      .option("--list", "list every check id")
      .action((id: string | undefined, opts: { list?: boolean }) => {
        if (opts.list || !id) {
          process.stdout.write(
            checkDefinitions()
              .map((d) => `${d.id.padEnd(28)} ${d.severity.padEnd(8)} ${d.title}`)
              .join("\n") + "\n",
          );
          return;
        }
        process.stdout.write(formatDefinition(explainCheck(id)));
      }),
  );
  return posture;
}
