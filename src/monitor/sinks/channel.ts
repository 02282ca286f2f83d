/**
 * One sink's delivery: what it still owes (the newest form of each alert, in order of first
 * offer), a rate limit, and retries. Nothing is dropped: an alert held back by the rate limit
 * or by a sink that is down stays pending until the sink takes it, and the monitor's delivered
 * watermark (lowestPending) never passes it, so a restart delivers it too.
 *
 * Rate limit: a token bucket of `perMinute` sends, refilled continuously. Critical alerts
 * (honeytokens, the monitor's own health) skip it: they are immediate.
 */
import { isPipesealError } from "../../errors.js";
import type { Alert } from "../types.js";
import type { AlertSink } from "./sink.js";

/** A change of the ledger to deliver: an alert in its newest form, and its change number. */
export interface Delivery {
  readonly alert: Alert;
  readonly changeNo: number;
}

export interface ChannelOptions {
  /** Sends per minute (not counting critical alerts); default 60. */
  readonly perMinute?: number;
  readonly now?: () => number;
  /** Retry backoff bounds after a failed send (ms); default 250 … 30,000. */
  readonly backoff?: { readonly baseMs: number; readonly maxMs: number };
  /** Told about a failed send (the reason, no alert content) and about alerts held by the rate limit. */
  readonly onNotice?: (message: string) => void;
}

export class SinkChannel {
  readonly #pending = new Map<string, Delivery>();
  readonly #now: () => number;
  readonly #perMinute: number;
  readonly #base: number;
  readonly #max: number;
  #tokens: number;
  #refilledAt: number;
  #retryAt = 0;
  #delay: number;
  #heldNoticeAt = Number.NEGATIVE_INFINITY;
  #failures = 0;
  #offered = 0;
  #resumedAt: number;

  constructor(
    readonly sink: AlertSink,
    private readonly options: ChannelOptions = {},
    /** The sink's watermark from the saved state. */
    taken = 0,
  ) {
    this.#resumedAt = taken;
    this.#now = options.now ?? Date.now;
    this.#perMinute = options.perMinute ?? 60;
    this.#tokens = this.#perMinute;
    this.#refilledAt = this.#now();
    this.#base = options.backoff?.baseMs ?? 250;
    this.#max = options.backoff?.maxMs ?? 30_000;
    this.#delay = this.#base;
  }

  /** Owes `d` to the sink (a newer form of a pending alert replaces it, keeping its place); a change at or below the watermark is already taken. */
  offer(d: Delivery): void {
    if (d.changeNo <= this.#resumedAt) return;
    this.#offered = Math.max(this.#offered, d.changeNo);
    this.#pending.set(d.alert.id, d);
  }

  /** The ledger now ends at `n` (keystore.db restored from an older copy): change numbers above it will be reused, so they are owed again. */
  rewind(n: number): void {
    this.#resumedAt = Math.min(this.#resumedAt, n);
    this.#offered = Math.min(this.#offered, n);
  }

  /** Every change up to this one has been taken by the sink (restored from the state at start). */
  watermark(): number {
    const low = this.lowestPending();
    return low === undefined ? Math.max(this.#resumedAt, this.#offered) : low - 1;
  }

  get pending(): number {
    return this.#pending.size;
  }

  /** Failed attempts in a row (0 after a send the sink took). */
  get failures(): number {
    return this.#failures;
  }

  /** The lowest change number not yet taken (undefined when nothing is owed). */
  lowestPending(): number | undefined {
    let low: number | undefined;
    for (const d of this.#pending.values()) if (low === undefined || d.changeNo < low) low = d.changeNo;
    return low;
  }

  /** Makes `sent` durable at the sink, then no longer owed (unless a newer form arrived meanwhile). */
  async #taken(sent: readonly [string, Delivery][]): Promise<void> {
    if (sent.length === 0) return;
    await this.sink.flush?.();
    for (const [id, d] of sent) if (this.#pending.get(id) === d) this.#pending.delete(id);
  }

  /**
   * Sends what the rate limit and backoff allow now.
   * @throws MonitorError(MONITOR_QUEUE_FULL) from a sink whose queue is full (the alert stays pending).
   */
  async pump(): Promise<void> {
    const now = this.#now();
    if (this.#pending.size === 0 || now < this.#retryAt) return;
    this.#tokens = Math.min(this.#perMinute, this.#tokens + ((now - this.#refilledAt) * this.#perMinute) / 60_000);
    this.#refilledAt = now;
    let held = 0;
    const sent: [string, Delivery][] = [];
    const failed = (e: unknown) => {
      this.#failures++;
      this.#retryAt = this.#now() + this.#delay;
      this.#delay = Math.min(this.#max, this.#delay * 2);
      this.options.onNotice?.(`${this.sink.name}: send failed (${(e as Error).message}); ${this.#pending.size} alert(s) pending, retrying`);
    };
    for (const [id, d] of [...this.#pending]) {
      const critical = d.alert.severity === "critical";
      if (!critical && this.#tokens < 1) {
        held++;
        continue;
      }
      try {
        await this.sink.send(d.alert);
      } catch (e) {
        if (isPipesealError(e) && e.code === "MONITOR_QUEUE_FULL") {
          await this.#taken(sent).catch(() => undefined); // what it took before it filled up is not owed again
          throw e;
        }
        failed(e);
        break;
      }
      if (!critical) this.#tokens -= 1;
      sent.push([id, d]);
    }
    try {
      await this.#taken(sent);
    } catch (e) {
      failed(e); // not durable: everything stays owed
      return;
    }
    if (this.#retryAt <= now) {
      this.#delay = this.#base;
      this.#failures = 0;
    }
    if (held > 0 && now - this.#heldNoticeAt >= 60_000) {
      this.#heldNoticeAt = now;
      this.options.onNotice?.(`${this.sink.name}: rate limit (${this.#perMinute}/min) reached; ${held} alert(s) held back, sent as the limit allows`);
    }
  }
}
