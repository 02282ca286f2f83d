/**
 * The posture engine: runs every check module over the map (each reads, none writes),
 * then assembles the report — findings worst first, each stage's and connection's status,
 * the four answers, stats, and, with a baseline, what was added and fixed since.
 */
import { CHECK_MODULES } from "./checks/index.js";
import { compareFindings, severityRank } from "./finding.js";
import type { Answers, CheckContext, CheckModule, Finding, KeySource, PipelineMap, PostureReport, Severity, Status } from "./types.js";
import { STAGES } from "./types.js";

export const TOOL_VERSION = "0.1.0";

export interface CheckPostureOptions {
  /** The clock (default: now). */
  readonly now?: Date;
  /** The keys the map names; null or absent: key checks report KEYS-UNVERIFIED. */
  readonly keys?: KeySource | null;
  /** Modules to run (default: every module, CHECK_MODULES). */
  readonly modules?: readonly CheckModule[];
  /** The map file's path, for the report. */
  readonly mapPath?: string;
  /** Fingerprints of a previous run, and where they came from. */
  readonly baseline?: { readonly path: string; readonly fingerprints: readonly string[] };
  readonly progress?: (examined: number) => void;
}

/**
 * Runs the checks and builds the report. Never throws for a finding.
 * @example const report = await checkPosture(await loadMap("pipeline.yaml"), { keys: keystoreSource(ks, home) });
 * @throws PipesealError for a broken environment (an unreadable keystore, a policy that does not parse).
 */
export async function checkPosture(map: PipelineMap, options: CheckPostureOptions = {}): Promise<PostureReport> {
  const started = performance.now();
  const memo = new Map<string, Promise<unknown>>();
  const ctx: CheckContext = {
    map,
    now: options.now ?? new Date(),
    keys: options.keys ?? null,
    memo: <T>(name: string, make: () => Promise<T>) => {
      if (!memo.has(name)) memo.set(name, make());
      return memo.get(name) as Promise<T>;
    },
    ...(options.progress ? { progress: options.progress } : {}),
  };
  const modules = options.modules ?? CHECK_MODULES;
  const findings: Finding[] = [];
  const answers = { keys: [], access: [], plaintext: [], retention: [] } as { -readonly [K in keyof Answers]: Answers[K][number][] };
  let filesExamined = 0;
  let bytesRead = 0;
  for (const m of modules) {
    const r = await m.run(ctx);
    findings.push(...r.findings);
    for (const k of Object.keys(answers) as (keyof Answers)[]) (answers[k] as unknown[]).push(...(r.facts?.[k] ?? []));
    filesExamined += r.stats?.filesExamined ?? 0;
    bytesRead += r.stats?.bytesRead ?? 0;
  }
  findings.sort(compareFindings);
  const failing = findings.filter((f) => f.severity !== "info");
  const report: PostureReport = {
    tool: { name: "pipeseal", version: TOOL_VERSION },
    map: { name: map.name, path: options.mapPath ?? map.baseDir },
    generatedAt: ctx.now.toISOString(),
    durationMs: Math.round(performance.now() - started),
    stages: STAGES.map((id) => {
      const stage = map.stages.find((s) => s.id === id);
      const mine = failing.filter((f) => f.stage === id);
      return { id, status: statusOf(mine), stores: stage?.stores.length ?? 0, findings: mine.length };
    }),
    connections: map.connections.map((c) => ({ id: c.id, from: c.from, to: c.to, url: c.url, status: statusOf(failing.filter((f) => f.subject === c.id)) })),
    findings,
    checks: modules.flatMap((m) => m.definitions).map((d) => ({ ...d, failed: failing.filter((f) => f.checkId === d.id).length })),
    answers,
    stats: { filesExamined, bytesRead },
    ...(options.baseline ? { baseline: compareBaseline(options.baseline, findings) } : {}),
  };
  return report;
}

/** fail: any critical or high; warn: medium or low; pass: none. */
export function statusOf(findings: readonly Finding[]): Status {
  if (findings.some((f) => severityRank(f.severity) <= severityRank("high"))) return "fail";
  return findings.some((f) => f.severity !== "info") ? "warn" : "pass";
}

function compareBaseline(baseline: NonNullable<CheckPostureOptions["baseline"]>, findings: readonly Finding[]): NonNullable<PostureReport["baseline"]> {
  const before = new Set(baseline.fingerprints);
  const now = new Set(findings.map((f) => f.fingerprint));
  return { path: baseline.path, added: [...now].filter((f) => !before.has(f)), fixed: [...before].filter((f) => !now.has(f)) };
}

/**
 * Findings at or above `threshold` (the CLI's --fail-on). With a baseline only the new ones
 * count: a known finding the baseline accepted is not a regression (as `scan --baseline`).
 */
export function findingsAtOrAbove(report: PostureReport, threshold: Severity): Finding[] {
  const added = report.baseline ? new Set(report.baseline.added) : undefined;
  return report.findings.filter((f) => severityRank(f.severity) <= severityRank(threshold) && (!added || added.has(f.fingerprint)));
}
