/**
 * Payment card numbers (PANs): 13–19 digits, optionally grouped by one kind of separator,
 * passing Luhn (ISO/IEC 7812-1) and starting with a known issuer (IIN) range. All-same
 * digits are rejected. The card brands' published test numbers (4242 4242 4242 4242 …) are
 * reported with confidence 0.2, below the default threshold: they are not cardholder data.
 */
import type { Detector } from "../types.js";
import { luhn, patternDetector } from "./util.js";

const TEST_PANS = new Set([
  "4242424242424242",
  "4000056655665556",
  "4111111111111111",
  "4012888888881881",
  "4222222222222",
  "5555555555554444",
  "5200828282828210",
  "5105105105105100",
  "2223003122003222",
  "378282246310005",
  "371449635398431",
  "378734493671000",
  "6011111111111117",
  "6011000990139424",
  "3056930009020004",
  "36227206271667",
  "3566002020360505",
  "6200000000000005",
  "4000000000000002",
]);

/** Brand by IIN range and length, or null. */
export function cardBrand(d: string): string | null {
  const n = d.length;
  const p2 = Number(d.slice(0, 2));
  const p3 = Number(d.slice(0, 3));
  const p4 = Number(d.slice(0, 4));
  const p6 = Number(d.slice(0, 6));
  if (d[0] === "4" && (n === 13 || n === 16 || n === 19)) return "Visa";
  if (((p2 >= 51 && p2 <= 55) || (p4 >= 2221 && p4 <= 2720)) && n === 16) return "Mastercard";
  if ((p2 === 34 || p2 === 37) && n === 15) return "American Express";
  if ((p4 === 6011 || p2 === 65 || (p3 >= 644 && p3 <= 649) || (p6 >= 622126 && p6 <= 622925)) && n >= 16 && n <= 19) return "Discover";
  if (p4 >= 3528 && p4 <= 3589 && n >= 16 && n <= 19) return "JCB";
  if (((p3 >= 300 && p3 <= 305) || p2 === 36 || p2 === 38 || p2 === 39 || p4 === 3095) && n >= 14 && n <= 19) return "Diners Club";
  if (p2 === 62 && n >= 16 && n <= 19) return "UnionPay";
  if ((p2 === 50 || (p2 >= 56 && p2 <= 69)) && n >= 12 && n <= 19) return "Maestro";
  return null;
}

export function cardDetector(): Detector {
  return patternDetector({
    id: "credit-card",
    kind: "pii",
    label: "CREDIT_CARD",
    pattern: /(?<![\w.-])\d(?:[ -]?\d){11,18}(?![\w]|[.-]\d)/g,
    confidence: 0.95,
    explanation: "payment card number: known issuer range, Luhn check passes",
    validate(value) {
      const c0 = value.charCodeAt(0);
      if (c0 < 50 || c0 > 54) return null; // every issuer range starts with 2..6
      const d = value.replace(/[ -]/g, "");
      if (d.length < 13 || d.length > 19) return null;
      if (/^(\d)\1+$/.test(d)) return null;
      const seps = value.replace(/\d/g, "");
      if (new Set(seps).size > 1) return null;
      if (seps.length > 0 && !/^\d{4}([ -])\d{4}\1\d{4}\1\d{1,7}$|^\d{4}([ -])\d{6}\2\d{4,5}$/.test(value)) return null;
      const brand = cardBrand(d);
      if (!brand || !luhn(d)) return null;
      if (TEST_PANS.has(d)) return { confidence: 0.2, explanation: `${brand} published test card number (not cardholder data)` };
      return { confidence: seps.length > 0 ? 0.97 : 0.93, explanation: `${brand} card number: issuer range and Luhn check pass` };
    },
  });
}
