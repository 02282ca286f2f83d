/**
 * ISO 8601 times as `audit export` writes them (`Date#toISOString`: `2026-10-01T09:30:00.123Z`)
 * → epoch ms, fast. Date.parse is a third of the per-record cost of `monitor check`, and records
 * come in time order, so consecutive ones share their hour: the hour's start is parsed once
 * (by Date.parse, so calendar rules stay V8's) and minutes, seconds and milliseconds are added.
 * Anything else — another layout, an offset, an out-of-range field — goes to Date.parse whole,
 * so the result is always exactly Date.parse's (test/monitor/iso-time.test.ts checks that).
 */

const ZERO = 48;

/** A parser with its own one-hour cache (one per reader: parallel readers don't thrash it). */
export function isoTimeParser(): (text: string) => number {
  let hourText = "";
  let hourMs = Number.NaN;
  return (text) => {
    // YYYY-MM-DDTHH:MM:SS.sssZ, every digit a digit, minutes and seconds in range
    if (text.length !== 24 || text.charCodeAt(23) !== 90 /* Z */ || text.charCodeAt(13) !== 58 || text.charCodeAt(16) !== 58 || text.charCodeAt(19) !== 46)
      return Date.parse(text);
    const m1 = text.charCodeAt(14) - ZERO,
      m2 = text.charCodeAt(15) - ZERO;
    const s1 = text.charCodeAt(17) - ZERO,
      s2 = text.charCodeAt(18) - ZERO;
    const f1 = text.charCodeAt(20) - ZERO,
      f2 = text.charCodeAt(21) - ZERO,
      f3 = text.charCodeAt(22) - ZERO;
    if (!(m1 >= 0 && m1 <= 5 && m2 >= 0 && m2 <= 9 && s1 >= 0 && s1 <= 5 && s2 >= 0 && s2 <= 9)) return Date.parse(text);
    if (!(f1 >= 0 && f1 <= 9 && f2 >= 0 && f2 <= 9 && f3 >= 0 && f3 <= 9)) return Date.parse(text);
    if (!text.startsWith(hourText) || hourText === "") {
      // a new hour: its prefix must be YYYY-MM-DDTHH exactly (Date.parse's legacy fallback reads
      // much else, such as comments in parentheses); hour 24 is only valid as 24:00:00.000
      if (!isDatePrefix(text)) return Date.parse(text);
      const h1 = text.charCodeAt(11) - ZERO,
        h2 = text.charCodeAt(12) - ZERO;
      if (h1 * 10 + h2 > 23) return Date.parse(text);
      hourText = text.slice(0, 13);
      hourMs = Date.parse(hourText + ":00:00.000Z");
    }
    return hourMs + (m1 * 10 + m2) * 60_000 + (s1 * 10 + s2) * 1000 + f1 * 100 + f2 * 10 + f3;
  };
}

const DIGITS = [0, 1, 2, 3, 5, 6, 8, 9, 11, 12];

function isDatePrefix(text: string): boolean {
  if (text.charCodeAt(4) !== 45 || text.charCodeAt(7) !== 45 || text.charCodeAt(10) !== 84 /* T */) return false;
  for (const i of DIGITS) {
    const d = text.charCodeAt(i) - ZERO;
    if (!(d >= 0 && d <= 9)) return false;
  }
  return true;
}
