/**
 * US Social Security numbers. Area 001–899 except 666, group 01–99, serial 0001–9999
 * (SSA randomization rules, 2011); the famous advertising numbers are rejected. `AAA-GG-SSSS`
 * matches alone; `AAA GG SSSS` and bare nine digits only next to "SSN" / "social security".
 */
import type { Detector } from "../types.js";
import { contextBefore, patternDetector } from "./util.js";

const CONTEXT = /\bssn|social[ _-]?security|\bss#|\bsocial sec|taxpayer id|\bitin\b|\btin\b/i;
const KNOWN_FAKE = new Set(["078051120", "219099999", "123456789"]);

export function ssnValid(d: string): boolean {
  const area = Number(d.slice(0, 3));
  const group = Number(d.slice(3, 5));
  const serial = Number(d.slice(5));
  return area !== 0 && area !== 666 && area < 900 && group !== 0 && serial !== 0 && !KNOWN_FAKE.has(d);
}

export function ssnDetector(): Detector {
  return patternDetector({
    id: "us-ssn",
    kind: "pii",
    label: "US_SSN",
    pattern: /(?<![\w.-])\d{3}([- ]?)\d{2}\1\d{4}(?![\w]|[.-]\d)/g,
    confidence: 0.85,
    explanation: "US social security number (area/group/serial rules pass)",
    validate(value, text, start) {
      const d = value.replace(/\D/g, "");
      if (!ssnValid(d)) return null;
      const ctx = contextBefore(text, start, CONTEXT);
      if (value.includes("-")) return { confidence: ctx ? 0.97 : 0.85 };
      return ctx ? { confidence: 0.9, explanation: "nine digits labelled as an SSN (area/group/serial rules pass)" } : null;
    },
  });
}
