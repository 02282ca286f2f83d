/**
 * Baselines with bounded memory: an hour-of-week profile (168 decayed means) and a bounded
 * value set. Their size depends on the configuration, never on the number of records.
 */
import { SLOTS, slotOfHour, weekOfHour } from "./time.js";

const WEEKDAYS = [1, 2, 3, 4, 5];
const WEEKEND = [0, 6];

/** Weight of the newest week in a slot's mean: a pattern that changes is followed within a few weeks. */
const ALPHA = 0.3;

/**
 * Records per hour for each hour of the week, as a decayed mean over weeks. A week in which a
 * slot saw nothing counts as a zero for it (applied lazily, when the slot is next read or written).
 */
export class HourProfile {
  readonly mean: Float64Array;
  /** Week index of the last observation per slot; -1: never active. */
  readonly week: Int32Array;
  /** Slots ever active (kept, not recounted: it is read on every record). */
  active: number;

  constructor(mean?: readonly number[], week?: readonly number[]) {
    this.mean = mean ? Float64Array.from(mean) : new Float64Array(SLOTS);
    this.week = week ? Int32Array.from(week) : new Int32Array(SLOTS).fill(-1);
    this.active = 0;
    for (const w of this.week) if (w >= 0) this.active++;
  }

  /** A closed hour: `count` records in absolute hour `hour`. */
  observe(hour: number, count: number): void {
    const s = slotOfHour(hour);
    const w = weekOfHour(hour);
    const last = this.week[s];
    if (last < 0) {
      this.mean[s] = count;
      this.active++;
    } else if (w > last) this.mean[s] = this.decayed(s, w) * (1 - ALPHA) + count * ALPHA;
    else this.mean[s] = Math.max(this.mean[s], count); // the same week again (a replay): keep the larger
    this.week[s] = Math.max(w, last);
  }

  /** The slot's mean as of week `w`, counting silent weeks in between as zeros. */
  decayed(s: number, w: number): number {
    const last = this.week[s];
    if (last < 0) return 0;
    const gaps = w - last - 1;
    return gaps > 0 ? this.mean[s] * Math.pow(1 - ALPHA, gaps) : this.mean[s];
  }

  /** The most expected in the slot of `hour` and its two neighbours (a job that starts a few minutes early or late is still itself). */
  expected(hour: number): number {
    const w = weekOfHour(hour);
    const s = slotOfHour(hour);
    return Math.max(this.decayed((s + SLOTS - 1) % SLOTS, w), this.decayed(s, w), this.decayed((s + 1) % SLOTS, w));
  }

  /**
   * Was this hour, or a neighbouring one, ever active on a day of the same kind? Weekdays are
   * judged together and weekends together: a person seen at 09:00 on Tuesdays and Thursdays
   * is not off-hours at 09:00 on a Wednesday that learning happened to miss, but is on a Saturday.
   */
  activeNear(hour: number): boolean {
    const s = slotOfHour(hour);
    const h = s % 24;
    const day = Math.floor(s / 24);
    const days = day === 0 || day === 6 ? WEEKEND : WEEKDAYS;
    for (const d of days) {
      for (const dh of [h - 1, h, h + 1]) {
        if (this.week[(d * 24 + dh + SLOTS) % SLOTS] >= 0) return true;
      }
    }
    return false;
  }

  toJSON(): { mean: number[]; week: number[] } {
    return { mean: Array.from(this.mean, (m) => Math.round(m * 1000) / 1000), week: Array.from(this.week) };
  }
}

/**
 * Values seen for one context key, up to `max`; past that the key is "open" (high-cardinality,
 * such as a request id) and no longer judged: its values carry no signal, and memory stays bounded.
 */
export type ValueSet = Set<string> | "open";

export function addValue(sets: Map<string, ValueSet>, key: string, value: string, max: number, maxKeys: number): void {
  let set = sets.get(key);
  if (set === undefined) {
    if (sets.size >= maxKeys) return;
    set = new Set();
    sets.set(key, set);
  }
  if (set === "open") return;
  set.add(value);
  if (set.size > max) sets.set(key, "open");
}
