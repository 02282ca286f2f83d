import { stat } from "node:fs/promises";
import path from "node:path";
import { pathToFileURL } from "node:url";
import { Command } from "commander";
import { UsageError } from "../../errors.js";
import { once, writeAtomic } from "../../io/atomic.js";
import { builtinDetectors } from "../../redact/index.js";
import { readBaseline, scanPaths, toSarif, writeBaseline, emptyStats, type ScanFinding, type ScanNote } from "../../scan/index.js";
import { EXIT } from "../exit-codes.js";
import { printable } from "../output.js";
import { formatBytes } from "../progress.js";
import { parseSize } from "../../io/size.js";
import { scanFix } from "./scan-fix.js";

function where(f: ScanFinding): string {
  const nb = f.notebook;
  if (!nb) return `${printable(f.path)}:${f.line}:${f.column}`;
  const part = nb.output === undefined ? `cell ${nb.cell} (${nb.cellType})` : `cell ${nb.cell} output ${nb.output} (${printable(nb.mime ?? nb.outputType)})`;
  return `${printable(f.path)}:${f.line}:${f.column} [${part} line ${nb.line}:${nb.column}]`;
}

function humanLine(f: ScanFinding): string {
  return `${where(f)}  ${printable(f.detector)}  ${printable(f.kind)}  confidence ${f.confidence.toFixed(2)}  ${printable(f.hint)}${f.baselined ? "  (baselined)" : ""}\n`;
}

async function write(text: string): Promise<void> {
  if (!process.stdout.write(text)) await new Promise<void>((resolve) => process.stdout.once("drain", resolve));
}

/** New findings are a result, not an error: main.ts exits with this status after a successful run. */
function exitWithFindings(): void {
  process.exitCode = EXIT.findings; // a result, not an error
}

export function scanCommand(): Command {
  return new Command("scan")
    .description("find secrets and PII in files, folders, CI logs and Jupyter notebooks; exits 8 when there are findings not in the baseline, 2 on errors")
    .argument("<paths...>", "files and folders to scan")
    .option("--json", "print findings, notes and counts as JSON")
    .option("--sarif <file>", "also write a SARIF 2.1.0 log to <file>")
    .option("--baseline <file>", "accepted fingerprints: findings listed there are reported as baselined and do not fail")
    .option("--update-baseline", "write every current finding to the --baseline file (and exit 0)")
    .option("--no-gitignore", "scan files that .gitignore excludes (.git/ is still skipped)")
    .option("--max-file-size <size>", "skip larger files, with a note", "5MiB")
    .option("--fix <mode>", "move found secrets into the secret store and make the code read them: patch (print a diff, change nothing) or apply")
    .option("--fix-prefix <prefix>", "with --fix: store names are <prefix>/<variable> (default: the current folder's name)")
    .action(
      async (
        paths: string[],
        opts: {
          json?: boolean;
          sarif?: string;
          baseline?: string;
          updateBaseline?: boolean;
          gitignore: boolean;
          maxFileSize: string;
          fix?: string;
          fixPrefix?: string;
        },
        cmd: Command,
      ) => {
        if (opts.updateBaseline && !opts.baseline) throw new UsageError("INVALID_ARGUMENT", "--update-baseline needs --baseline <file>");
        const maxFileSize = parseSize(opts.maxFileSize);
        if (opts.fix !== undefined) {
          for (const p of paths) if (!(await stat(p).catch(() => undefined))) throw new UsageError("INVALID_ARGUMENT", `no such file or folder: ${p}`);
          return scanFix(cmd, paths, { fix: opts.fix, gitignore: opts.gitignore, maxFileSize, ...(opts.fixPrefix ? { fixPrefix: opts.fixPrefix } : {}) });
        }
        for (const p of paths) {
          if (!(await stat(p).catch(() => undefined))) throw new UsageError("INVALID_ARGUMENT", `no such file or folder: ${p}`);
        }
        const baseline = opts.baseline ? await readBaseline(opts.baseline) : undefined;
        const key = process.env.PIPESEAL_SCAN_KEY;
        const detectors = builtinDetectors();
        const stats = emptyStats();
        const notes: ScanNote[] = [];
        const findings: ScanFinding[] = [];
        const onNote = (n: ScanNote) => {
          notes.push(n);
          if (!opts.json) process.stderr.write(`pipeseal scan: note: ${printable(n.path)}: ${printable(n.message)}\n`);
        };
        for await (const f of scanPaths(paths, {
          detectors,
          gitignore: opts.gitignore,
          maxFileSize,
          stats,
          onNote,
          ...(baseline ? { baseline } : {}),
          ...(key ? { fingerprintKey: key } : {}),
        })) {
          findings.push(f);
          if (!opts.json) await write(humanLine(f));
        }
        if (opts.sarif) {
          const log = toSarif(findings, detectors, { toolVersion: "0.1.0", rootUri: pathToFileURL(path.resolve(".")).href });
          const bytes = Buffer.from(JSON.stringify(log, null, 2) + "\n");
          await writeAtomic(opts.sarif, once(bytes), 0o644);
        }
        if (opts.updateBaseline && opts.baseline) await writeBaseline(opts.baseline, findings);
        if (opts.json) await write(JSON.stringify({ findings, notes, stats }, null, 2) + "\n");
        else {
          const baselined = stats.findings - stats.newFindings;
          process.stderr.write(
            `pipeseal scan: ${stats.files} files (${formatBytes(stats.bytes)}), ${stats.notebooks} notebooks; skipped ${stats.skippedBinary} binary, ${stats.skippedLarge} too large, ${stats.skippedOther} other; ` +
              `${stats.findings} findings: ${stats.newFindings} new, ${baselined} baselined${opts.updateBaseline ? `; baseline ${printable(opts.baseline)} updated` : ""}\n`,
          );
        }
        if (stats.newFindings > 0 && !opts.updateBaseline) exitWithFindings();
      },
    );
}
