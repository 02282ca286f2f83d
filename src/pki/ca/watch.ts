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
  let backoff = 1000;
  while (!options.signal.aborted) {
    let waitMs: number;
    try {
      const result = await renewCertificateDir(ks, dir);
      if (result.renewed) options.onRenew?.(result);
      waitMs = Math.max(0, result.dueAt.getTime() - Date.now()) + WAKE_SLACK_MS;
      backoff = 1000;
    } catch (e) {
      if (e instanceof UsageError || e instanceof KeyError) throw e;
      waitMs = backoff;
      backoff = Math.min(backoff * 2, 60_000);
      options.onError?.(e, waitMs);
    }
    await sleep(Math.min(waitMs, MAX_SLEEP_MS), options.signal);
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
