/**
 * A clock that stands still until the test moves it (STYLE.md: a test of expiry moves a
 * clock, it does not sleep). Pass `now` wherever the code under test takes a clock.
 */
export interface ManualClock {
  /** The clock's time in epoch ms. */
  readonly now: () => number;
  /** Moves the clock forward by `ms`. */
  advance(ms: number): void;
}

export function manualClock(start: number = Date.now()): ManualClock {
  let t = start;
  return {
    now: () => t,
    advance(ms) {
      if (!(ms >= 0)) throw new RangeError(`a clock moves forward (got ${ms} ms)`);
      t += ms;
    },
  };
}
