/**
 * Stop signals (SIGINT, SIGTERM, SIGHUP) in one place, for every command. A command that
 * is interrupted removes its live temp files synchronously (io/temp-files.ts: a decrypt's
 * temp is plaintext) and exits with 128 + the signal number, as a shell reports a process
 * killed by that signal. A command whose normal end is a stop signal (a server, `logs
 * write`, `ca renew --watch`) registers `onStopSignal` and closes gracefully instead; a
 * second signal, or a close that takes longer than the grace period, exits at once.
 *
 * A library never changes its host process's signal behaviour by itself: the CLI calls
 * `installStopSignals` once; a service embedding pipeseal may call it, or call
 * `removeLiveTempsSync` from its own handlers.
 */
import { constants } from "node:os";
import { removeLiveTempsSync } from "./temp-files.js";

export const STOP_SIGNALS = ["SIGINT", "SIGTERM", "SIGHUP"] as const;
export type StopSignal = (typeof STOP_SIGNALS)[number];

type StopHandler = (signal: StopSignal) => void;
const handlers = new Set<StopHandler>();

export interface StopSignalOptions {
  /** How long a graceful stop may take before the process exits anyway (default 10 s). */
  readonly graceMs?: number;
  /** Told before an immediate exit, with the temp files just removed (the CLI prints it). */
  readonly onInterrupt?: (signal: StopSignal, removed: readonly string[]) => void;
}

let installed: StopSignalOptions | undefined;
let stopping = false;

/**
 * 128 + the signal's number: 130 for SIGINT, 143 for SIGTERM, 129 for SIGHUP.
 * @example exitCodeForSignal("SIGINT") // 130
 */
export function exitCodeForSignal(signal: StopSignal): number {
  return 128 + constants.signals[signal];
}

/**
 * Installs the handlers for SIGINT, SIGTERM and SIGHUP (once; later calls change nothing).
 * @example installStopSignals({ onInterrupt: (sig, removed) => log.warn({ sig, removed }, "interrupted") });
 */
export function installStopSignals(options: StopSignalOptions = {}): void {
  if (installed) return;
  installed = options;
  for (const signal of STOP_SIGNALS) process.on(signal, () => onSignal(signal));
}

/**
 * While registered, a stop signal calls `handler` (close the server, flush the sink) instead
 * of exiting: the command then returns normally. Returns the function that unregisters it.
 * @example const release = onStopSignal(() => void server.close()); // … release() once closed
 */
export function onStopSignal(handler: StopHandler): () => void {
  handlers.add(handler);
  return () => void handlers.delete(handler);
}

let yielded = 0;

/**
 * While a child process owns the stop signals (`pipeseal run` forwards them and returns the
 * child's status), the process neither exits nor calls stop handlers on one. Returns the
 * function that gives them back.
 */
export function yieldStopSignals(): () => void {
  yielded++;
  let done = false;
  return () => {
    if (!done) yielded--;
    done = true;
  };
}

function onSignal(signal: StopSignal): void {
  if (yielded > 0) return;
  if (stopping || handlers.size === 0) exitNow(signal);
  stopping = true;
  setTimeout(() => exitNow(signal), installed?.graceMs ?? 10_000).unref();
  for (const h of [...handlers]) h(signal);
}

function exitNow(signal: StopSignal): never {
  const removed = removeLiveTempsSync();
  try {
    installed?.onInterrupt?.(signal, removed);
  } finally {
    process.exit(exitCodeForSignal(signal));
  }
}
