/** `watchCertificateDir`: keeps a certificate folder renewed until aborted. */
import { KeyError, UsageError } from "../../errors.js";
import type { LocalKeystore } from "../../keys/keystore.js";
import { type RenewResult, renewCertificateDir } from "./renew.js";

export interface WatchOptions {
  /** Stops the loop (e.g. on SIGINT/SIGTERM); the promise then resolves. */
  readonly signal: AbortSignal;
  /** Called after each renewal. */
  readonly onRenew?: (result: RenewResult) => void;
  /** Called when a renewal attempt fails with a transient error; it is retried after `retryInMs`. */
  readonly onError?: (error: unknown, retryInMs: number) => void;
  /**
   * The time (epoch ms) and the wait between checks, which must end early when `signal`
   * aborts (tests move a clock instead of sleeping). Default: Date.now and a timer.
   */
  readonly clock?: { now(): number; sleep(ms: number, signal: AbortSignal): Promise<void> };
}

/** Longest single sleep, so clock jumps and suspends are noticed within the hour. */
const MAX_SLEEP_MS = 3600_000;
/** Wake a little after the due point so the renewal check sees it as reached. */
const WAKE_SLACK_MS = 50;

/**
 * Renews the folder whenever it is due (see `renewCertificateDir`), sleeping until the next
 * 2/3 point in between, until `signal` aborts. Errors the caller must fix (a PipesealError
 * of the usage, key or CA kind: revoked, not from this CA, malformed) end the loop by
 * throwing; transient ones (I/O, audit) are reported and retried with backoff.
 * @throws the first non-transient error.
 */
export async function watchCertificateDir(ks: LocalKeystore, dir: string, options: WatchOptions): Promise<void> {
  const clock = options.clock ?? { now: Date.now, sleep };
  let backoff = 1000;
  while (!options.signal.aborted) {
    let waitMs: number;
    try {
      const result = await renewCertificateDir(ks, dir, { now: clock.now() });
      if (result.renewed) options.onRenew?.(result);
      waitMs = Math.max(0, result.dueAt.getTime() - clock.now()) + WAKE_SLACK_MS;
      backoff = 1000;
    } catch (e) {
      if (e instanceof UsageError || e instanceof KeyError) throw e;
      waitMs = backoff;
      backoff = Math.min(backoff * 2, 60_000);
      options.onError?.(e, waitMs);
    }
    await clock.sleep(Math.min(waitMs, MAX_SLEEP_MS), options.signal);
  }
}

function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal.aborted) return resolve();
    const timer = setTimeout(done, ms);
    signal.addEventListener("abort", done, { once: true });
    function done() {
      clearTimeout(timer);
      signal.removeEventListener("abort", done);
      resolve();
    }
  });
}
