import { expect, test } from "vitest";
import { isoTimeParser } from "../../src/monitor/iso-time.js";
import { prng } from "../helpers/prng.js";

// the fast path must agree with Date.parse (the reference) on every string, valid or not
test("isoTimeParser agrees with Date.parse: toISOString times, edge cases and near-misses", () => {
  const parse = isoTimeParser();
  const rand = prng(7);
  const samples: string[] = [];
  let t = Date.parse("2026-02-27T22:00:00Z");
  for (let i = 0; i < 20_000; i++) {
    t += Math.floor(rand() * 90_000); // ordered, as an export is: the hour cache is hit and missed
    samples.push(new Date(t).toISOString());
  }
  samples.push(
    "2026-02-30T00:00:00.000Z",
    "2026-13-01T00:05:00.000Z",
    "2026-01-01T24:00:00.000Z",
    "2026-01-01T24:30:00.000Z",
    "2026-01-01T23:60:00.000Z",
    "2026-01-01T23:59:60.000Z",
    "2026-01-01T23:59:59.999Z",
    "2026-01-01T00:00:00Z",
    "2026-01-01T00:00:00.000+01:00",
    "2026-01-01t00:00:00.000z",
    "+002026-01-01T00:00:00.000Z",
    "20a6-01-01T00:05:00.000Z",
    "2026-01-01T00:0a:00.000Z",
    "2026-01-01T00:00:00.00aZ",
    "2026-01-01T0a:00:00.000Z",
    "yesterday",
    "",
    "2026-01-01T00:00:00.000Y",
  );
  for (let i = 0; i < 5000; i++) {
    // one character of a valid time replaced by a random printable one
    const s = samples[i]!;
    const at = Math.floor(rand() * s.length);
    samples.push(s.slice(0, at) + String.fromCharCode(32 + Math.floor(rand() * 95)) + s.slice(at + 1));
  }
  for (const s of samples) expect(parse(s), s).toBe(Date.parse(s));
});
