/** Hour-of-week arithmetic in UTC. Weeks start on Sunday 00:00 UTC; slot = day × 24 + hour (0 = Sunday 00:00). */
export const HOUR_MS = 3_600_000;
export const SLOTS = 168;
const DAYS = ["Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"];

/** Whole hours since the epoch. */
export function hourIndex(ms: number): number {
  return Math.floor(ms / HOUR_MS);
}

/** 1970-01-01 was a Thursday (day 4). */
export function slotOfHour(hour: number): number {
  return (((Math.floor(hour / 24) + 4) % 7) * 24 + (hour % 24) + SLOTS) % SLOTS;
}

export function weekOfHour(hour: number): number {
  return Math.floor((Math.floor(hour / 24) + 4) / 7);
}

export function dayIndex(ms: number): number {
  return Math.floor(ms / 86_400_000);
}

/** `Wed 03:00 UTC` */
export function slotName(slot: number): string {
  return `${DAYS[Math.floor(slot / 24)]} ${String(slot % 24).padStart(2, "0")}:00 UTC`;
}
