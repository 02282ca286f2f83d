import { UsageError } from "../errors.js";

const UNITS: Record<string, number> = { s: 1, m: 60, h: 3600, d: 86400, w: 604800 };

/** Parses `90d`, `12h`, `30m`, `45s`, `2w` into seconds. */
export function parseDuration(text: string): number {
  const m = /^(\d+)([smhdw])$/.exec(text.trim());
  if (!m) throw new UsageError("INVALID_ARGUMENT", `"${text}" is not a duration; use a number and a unit, e.g. 90d, 12h, 30m`);
  const seconds = Number(m[1]) * UNITS[m[2]];
  if (seconds <= 0 || !Number.isSafeInteger(seconds)) throw new UsageError("INVALID_ARGUMENT", `duration "${text}" is out of range`);
  return seconds;
}

/** Formats seconds back into the largest whole unit, e.g. 7776000 → "90d". */
export function formatDuration(seconds: number): string {
  for (const unit of ["w", "d", "h", "m"] as const) {
    if (seconds % UNITS[unit] === 0) return `${seconds / UNITS[unit]}${unit}`;
  }
  return `${seconds}s`;
}

/** Seconds as a person reads them, rounded to two units: 259320 → "3d 0h", 5400 → "1h 30m", 42 → "42s". */
export function humanizeDuration(seconds: number): string {
  const s = Math.max(0, Math.round(seconds));
  if (s < 60) return `${s}s`;
  if (s < 3600) return `${Math.round(s / 60)}m`;
  if (s < 2 * 86400) return `${Math.floor(s / 3600)}h ${Math.round((s % 3600) / 60)}m`;
  return `${Math.floor(s / 86400)}d ${Math.round((s % 86400) / 3600)}h`;
}
