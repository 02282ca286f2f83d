/**
 * Runs the demo's stages in order: narrates each, times it, stops every server and process
 * the stages started (also on SIGINT/SIGTERM), and prints the summary table. A failed check
 * stops the run with a non-zero exit: the demo is also the project's end-to-end test.
 */
import { mkdirSync } from "node:fs";
import { exitCodeForSignal } from "../io/signals.js";
import { initKeystore, openKeystore } from "../keys/index.js";
import type { LocalKeystore } from "../keys/keystore.js";
import { type Demo, type Layout, type Stoppable, type SummaryRow } from "./context.js";

export interface Stage {
  /** One word, for the times line and the bench. */
  readonly name: string;
  readonly title: string;
  run(d: Demo): Promise<void>;
}

export interface StepTime {
  readonly name: string;
  readonly title: string;
  readonly ms: number;
}

export interface RunResult {
  readonly ok: boolean;
  readonly steps: readonly StepTime[];
  readonly rows: readonly SummaryRow[];
  readonly facts: Record<string, unknown>;
  /** URLs of the servers the run started (all stopped when it returns, unless kept). */
  readonly servers: readonly string[];
  readonly error?: string;
  /** The stop signal that ended the run early (the exit status is then 128 + its number, whatever failed after). */
  readonly stoppedBy?: "SIGINT" | "SIGTERM";
  readonly totalMs: number;
}

export interface RunOptions {
  readonly dir: Layout;
  readonly stages: readonly Stage[];
  readonly trustDomain: string;
  /** Leave the servers running until SIGINT/SIGTERM (`--keep`), after showing the result (`report`). */
  readonly keep: boolean;
  /** Keep the data keys in a key service on 127.0.0.1 (`--service`). */
  readonly service: boolean;
  /** Shows the result: before the wait with --keep, else once everything is stopped. */
  readonly report: (r: RunResult) => void;
  /** Narration (stdout by default; nothing with --json). */
  readonly out: (line: string) => void;
  readonly tty: boolean;
}

export async function runStages(o: RunOptions): Promise<RunResult> {
  const started = performance.now();
  mkdirSync(o.dir.root, { recursive: true });
  await initKeystore(o.dir.home);
  const ks = await openKeystore(o.dir.home, { principal: "demo-operator" });
  const running: Stoppable[] = [];
  const rows: SummaryRow[] = [];
  const steps: StepTime[] = [];
  const facts: Record<string, unknown> = {};
  const servers: string[] = [];
  const handles: LocalKeystore[] = [];
  let progressShown = false;
  let stoppedBy: "SIGINT" | "SIGTERM" | undefined;
  const d: Demo = {
    dir: o.dir,
    ks,
    service: null,
    withService: o.service,
    trustDomain: o.trustDomain,
    say: (line) => {
      if (progressShown && o.tty) process.stdout.write("\r\x1b[K");
      progressShown = false;
      o.out(`   ${line}`);
    },
    progress: (done, total, what) => {
      if (!o.tty) return;
      const width = 24;
      const filled = Math.round((done / Math.max(total, 1)) * width);
      process.stdout.write(`\r   [${"#".repeat(filled)}${".".repeat(width - filled)}] ${done}/${total} ${what}`);
      progressShown = true;
    },
    started: (s) => {
      // started after an interrupt (the stage was mid-way): stopped at once, never left behind
      if (stoppedBy) return void s.stop().catch(() => undefined);
      running.push(s);
      if (s.url) servers.push(s.url);
    },
    row: (r) => void rows.push(r),
    as: async (service) => {
      const h = await openKeystore(o.dir.home, { principal: `spiffe://${o.trustDomain}/prod/${service}` });
      handles.push(h);
      return h;
    },
    data: (service) => (d.service ? d.service.as(service) : d.as(service)),
    facts,
  };
  const stopAll = async () => {
    for (const s of running.splice(0).reverse()) await s.stop().catch(() => undefined);
  };
  const onSignal = (signal: "SIGINT" | "SIGTERM") => {
    stoppedBy = signal;
    void stopAll().finally(() => process.exit(exitCodeForSignal(signal)));
  };
  process.once("SIGINT", onSignal);
  process.once("SIGTERM", onSignal);
  let error: string | undefined;
  let reported = false;
  const result = (err: string | undefined): RunResult => ({
    ok: err === undefined,
    steps,
    rows,
    facts: shareable(facts),
    servers,
    ...(err === undefined ? {} : { error: err }),
    ...(stoppedBy ? { stoppedBy } : {}),
    totalMs: Math.round(performance.now() - started),
  });
  try {
    for (const [i, stage] of o.stages.entries()) {
      o.out(`\n${i + 1}. ${stage.title}`);
      const t0 = performance.now();
      await stage.run(d);
      if (progressShown && o.tty) process.stdout.write("\r\x1b[K");
      progressShown = false;
      const ms = Math.round(performance.now() - t0);
      steps.push({ name: stage.name, title: stage.title, ms });
      o.out(`   (${(ms / 1000).toFixed(1)} s)`);
    }
    if (o.keep && !stoppedBy) {
      o.report(result(undefined));
      reported = true;
      o.out(`\n--keep: servers running (${servers.join(", ")}); Ctrl-C stops them`);
      // the wait replaces the interrupt handler: Ctrl-C now means "done exploring", a clean stop
      process.off("SIGINT", onSignal);
      process.off("SIGTERM", onSignal);
      await new Promise<void>((resolve) => {
        process.once("SIGINT", () => resolve());
        process.once("SIGTERM", () => resolve());
      });
    }
  } catch (e) {
    // a stage that fails because the signal stopped its server or job failed for that reason
    error = stoppedBy ? "interrupted" : e instanceof Error ? e.message : String(e);
  } finally {
    process.off("SIGINT", onSignal);
    process.off("SIGTERM", onSignal);
    await stopAll();
    for (const h of handles) h.close();
    ks.close();
  }
  const r = result(error);
  if (!reported) o.report(r);
  return r;
}

/** The facts fit to print (--json): names, URLs, counts; never the processed records or internals. */
function shareable(facts: Record<string, unknown>): Record<string, unknown> {
  const plain = (v: unknown) => ["string", "number", "boolean"].includes(typeof v);
  return Object.fromEntries(Object.entries(facts).filter(([, v]) => plain(v) || (Array.isArray(v) && v.every(plain))));
}
