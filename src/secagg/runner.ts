/**
 * Drives one `AggregatorRound` in time: the advertising step stays open until the round is
 * full, or `joinWindowMs` after `minParties` joined, or aborts after `joinTimeoutMs`; every
 * later step closes as soon as every expected party answered, or `stepTimeoutMs` after it
 * opened (the late parties count as dropped). Waiters (long-polls) wake on every change, and
 * `onEnd` runs once when the round is done or aborted (the server audits it there).
 */
import { isPipesealError } from "../errors.js";
import { AggregatorRound, type RoundOptions, type RoundStep } from "./round.js";

export interface Timing {
  readonly joinWindowMs: number;
  readonly joinTimeoutMs: number;
  readonly stepTimeoutMs: number;
}

const ORDER: readonly RoundStep[] = ["advertise", "share", "mask", "consistency", "unmask", "done"];

export class RoundRunner {
  readonly round: AggregatorRound;
  readonly #timing: Timing;
  readonly #onEnd: (r: AggregatorRound) => void;
  #timer: NodeJS.Timeout | undefined;
  #joinTimer: NodeJS.Timeout | undefined;
  #waiters = new Set<() => void>();
  #ended = false;

  constructor(options: RoundOptions, timing: Timing, onEnd: (r: AggregatorRound) => void) {
    this.round = new AggregatorRound(options);
    this.#timing = timing;
    this.#onEnd = onEnd;
    this.#joinTimer = setTimeout(() => this.#closeIfOpen("advertise"), timing.joinTimeoutMs);
    this.#joinTimer.unref();
  }

  /** True once the round reached `step` (or ended: done or aborted). */
  reached(step: RoundStep): boolean {
    const s = this.round.step;
    return s === "aborted" || ORDER.indexOf(s) >= ORDER.indexOf(step);
  }

  /** Resolves when the round reached `step`, or after `maxMs` (false). */
  wait(step: RoundStep, maxMs: number): Promise<boolean> {
    if (this.reached(step)) return Promise.resolve(true);
    return new Promise((resolve) => {
      const wake = () => {
        if (!this.reached(step)) return;
        clearTimeout(t);
        this.#waiters.delete(wake);
        resolve(true);
      };
      const t = setTimeout(() => {
        this.#waiters.delete(wake);
        resolve(false);
      }, maxMs);
      t.unref();
      this.#waiters.add(wake);
    });
  }

  /** Runs a message handler, then closes the step if nobody else is expected. */
  accept(work: () => void): void {
    work();
    const r = this.round;
    if (r.step === "advertise") {
      if (r.pending() === 0) this.#closeIfOpen("advertise");
      else if (r.summary().advertised.length >= r.config.minParties && !this.#timer) this.#arm("advertise", this.#timing.joinWindowMs);
    } else if (r.pending() === 0) this.#closeIfOpen(r.step);
  }

  abort(message: string): void {
    try {
      this.round.abort(message);
    } catch {
      // the abort error is the round's state now
    }
    this.#changed();
  }

  #arm(step: RoundStep, ms: number): void {
    clearTimeout(this.#timer);
    this.#timer = setTimeout(() => this.#closeIfOpen(step), ms);
    this.#timer.unref();
  }

  #closeIfOpen(step: RoundStep): void {
    if (this.round.step !== step) return;
    clearTimeout(this.#timer);
    this.#timer = undefined;
    if (step === "advertise") clearTimeout(this.#joinTimer);
    try {
      this.round.close();
    } catch (e) {
      // a close that threw without aborting would leave the round stuck at its step: abort it
      if (this.round.step !== "aborted") this.abort(isPipesealError(e) ? e.message : `internal error: ${(e as Error).message}`);
    }
    const now = this.round.step;
    if (now !== "done" && now !== "aborted") this.#arm(now, this.#timing.stepTimeoutMs);
    this.#changed();
  }

  #changed(): void {
    for (const w of [...this.#waiters]) w();
    const s = this.round.step;
    if ((s === "done" || s === "aborted") && !this.#ended) {
      this.#ended = true;
      clearTimeout(this.#timer);
      clearTimeout(this.#joinTimer);
      this.#onEnd(this.round);
    }
  }

  stop(): void {
    clearTimeout(this.#timer);
    clearTimeout(this.#joinTimer);
  }
}
