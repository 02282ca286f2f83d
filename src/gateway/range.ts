/**
 * `Range: bytes=…` (RFC 9110 §14): one range, `a-b`, `a-` or suffix `-n`. A header that
 * does not parse, or asks for several ranges, is ignored (the whole object is sent, as
 * §14.2 allows); a range starting at or past the end is unsatisfiable (416).
 */
export type RangeRequest =
  { readonly kind: "none" } | { readonly kind: "unsatisfiable" } | { readonly kind: "range"; readonly start: number; readonly end: number };

const NONE: RangeRequest = { kind: "none" };
const UNSATISFIABLE: RangeRequest = { kind: "unsatisfiable" };

/** `end` is inclusive, as in Content-Range. */
export function parseRange(header: string | undefined, size: number): RangeRequest {
  if (header === undefined) return NONE;
  const m = /^\s*bytes\s*=\s*(.*)$/i.exec(header);
  if (!m || m[1].includes(",")) return NONE;
  const spec = /^(\d*)-(\d*)\s*$/.exec(m[1]);
  if (!spec || (spec[1] === "" && spec[2] === "")) return NONE;
  const num = (s: string) => (s.length > 15 ? Number.MAX_SAFE_INTEGER : Number(s));
  if (spec[1] === "") {
    const n = num(spec[2]);
    if (n === 0 || size === 0) return UNSATISFIABLE;
    return { kind: "range", start: Math.max(0, size - n), end: size - 1 };
  }
  const start = num(spec[1]);
  if (spec[2] !== "" && num(spec[2]) < start) return NONE; // invalid range-spec: ignore the header (§14.1.1)
  if (start >= size) return UNSATISFIABLE;
  return { kind: "range", start, end: spec[2] === "" ? size - 1 : Math.min(num(spec[2]), size - 1) };
}
