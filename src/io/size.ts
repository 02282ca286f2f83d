import { UsageError } from "../errors.js";

// kb/mb/gb are decimal, kib/mib/gib and the short k/m/g binary (as log rotation always read them)
const UNITS: Record<string, number> = { b: 1, kb: 1e3, mb: 1e6, gb: 1e9, kib: 1024, mib: 1024 ** 2, gib: 1024 ** 3, k: 1024, m: 1024 ** 2, g: 1024 ** 3 };

/** Parses a byte size: `4096`, `1e9`, `500kb`, `5MiB`, `1.5GiB`, `8m`. @throws UsageError(INVALID_ARGUMENT) */
export function parseSize(text: string): number {
  const m = /^(\d+(?:\.\d+)?(?:e\d+)?)\s*([kmg]i?b|[kmg]|b)?$/i.exec(text.trim());
  const n = m ? Math.floor(Number(m[1]) * UNITS[(m[2] ?? "b").toLowerCase()]) : NaN;
  if (!Number.isSafeInteger(n) || n < 1) throw new UsageError("INVALID_ARGUMENT", `"${text}" is not a size; use bytes or e.g. 512k, 5MiB, 1GiB`);
  return n;
}
