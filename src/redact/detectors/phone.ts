/**
 * Phone numbers: E.164 (`+` country code) anywhere; NANP written with separators
 * (`(555) 123-4567`, `555-123-4567`); national formats and bare digit runs only next to a
 * word such as "phone", "tel", "mobile" — so order ids, timestamps and counters do not match.
 */
import type { Detector, Finding } from "../types.js";
import { contextBefore, patternDetector } from "./util.js";

const CONTEXT = /phone|\btel\b|mobile|\bcell|\bfax\b|whats ?app|\bsms\b|msisdn|\bcall (?:me|us)\b/i;
/** For bare national numbers: the label right before, nothing numeric in between. */
const NEAR_LABEL = /(?:phone|\btel\b|mobile|\bcell|\bfax\b|whats ?app|\bsms\b|msisdn)[^0-9\n]{0,16}$/i;
const LABEL_HINT = /phone|tel|mobile|cell|fax|whats ?app|sms|msisdn/gi;
const digits = (s: string): string => s.replace(/\D/g, "");

/**
 * The greedy pattern can run on into the next number ("+49 30 1234567 4242 4242"): keep whole
 * digit groups while the total stays within E.164's 15 digits (11 for +1).
 */
function trimE164(value: string): number {
  const max = /^\+1[ .(-]/.test(value) ? 11 : 15;
  let n = 0;
  let keep = 0;
  const re = /\(?\d+\)?/g;
  for (let m = re.exec(value); m !== null; m = re.exec(value)) {
    const d = m[0].replace(/\D/g, "").length;
    if (n + d > max) break;
    n += d;
    keep = m.index + m[0].length;
  }
  return n >= 8 ? keep : 0;
}

function intl(): Detector {
  return patternDetector({
    id: "phone",
    kind: "pii",
    label: "PHONE",
    pattern: /(?<![\w+])\+[1-9]\d{0,2}(?:[ .-]?\(\d{1,4}\))?(?:[ .-]\d)?(?:\d|[ .-]\d\d){4,14}(?![\w+]|[.-]\d)/g,
    hint: (t) => t.includes("+"),
    confidence: 0.9,
    explanation: "international (E.164) phone number",
    trim: trimE164,
    validate(value, text, start) {
      const n = digits(value).length;
      if (n < 8 || n > 15) return null;
      if (/^\+\d+$/.test(value) && !contextBefore(text, start, CONTEXT) && n < 10) return null;
      return { confidence: contextBefore(text, start, CONTEXT) ? 0.97 : 0.9 };
    },
  });
}

function nanp(): Detector {
  return patternDetector({
    id: "phone",
    kind: "pii",
    label: "PHONE",
    pattern: /(?<![\w+.-])(?:1[ .-])?(?:\(\d{3}\) ?|\d{3}[-. ])\d{3}[-. ]\d{4}(?![\w]|[.-]\d)/g,
    confidence: 0.85,
    explanation: "North American phone number with separators",
    validate(value, text, start) {
      const d = digits(value).replace(/^1(?=\d{10}$)/, "");
      if (d[0] === "0" || d[0] === "1" || d[3] === "0" || d[3] === "1") return null;
      const seps = value.replace(/^1[ .-]/, "").replace(/[\d()]/g, "");
      const ctx = contextBefore(text, start, CONTEXT);
      if (/^ +$/.test(seps) && !ctx) return null; // "555 123 4567" needs a label
      if (!value.includes("(") && new Set(seps).size > 1) return null; // 555-123.4567
      return { confidence: ctx ? 0.97 : 0.85 };
    },
  });
}

function national(): Detector {
  return patternDetector({
    id: "phone",
    kind: "pii",
    label: "PHONE",
    pattern: /(?<![\w+.-])(?:0\d{1,4}|\(0\d{1,4}\)|\d{3})(?:[ -]?\d){6,10}(?![\w]|[.-]\d)/g,
    confidence: 0.9,
    explanation: "national phone number next to a phone label",
    anchor: { pattern: LABEL_HINT, window: 24 },
    validate(value, text, start) {
      const n = digits(value).length;
      if (n < 9 || n > 12) return null;
      if (!contextBefore(text, start, NEAR_LABEL, 32)) return null;
      return { confidence: 0.9 };
    },
  });
}

/** One detector id ("phone") over the three formats. */
export function phoneDetector(): Detector {
  const parts = [intl(), nanp(), national()];
  return {
    id: "phone",
    kind: "pii",
    label: "PHONE",
    find(text: string): Finding[] {
      if (!/\d{3}/.test(text)) return [];
      const all = parts.flatMap((p) => p.find(text)).sort((a, b) => a.start - b.start || b.end - a.end);
      const out: Finding[] = [];
      for (const f of all) {
        const last = out[out.length - 1];
        if (last && f.start < last.end) continue;
        out.push(f);
      }
      return out;
    },
  };
}
