/**
 * Dates of birth: a date is reported only when a label ("dob", "date of birth", "birth date",
 * "birthday", "born") sits just before it, so timestamps and release dates never match.
 * The finding covers the date, not the label.
 */
import type { Detector } from "../types.js";
import { contextBefore, patternDetector } from "./util.js";

const LABEL =
  /(?:\bd\.?o\.?b\.?|date[ _-]?of[ _-]?birth|birth[ _-]?date|birth[ _-]?day|\bborn(?: on| in)?|geburtsdatum|date de naissance)["']?[^A-Za-z0-9\n]{0,6}$/i;
/** Every LABEL alternative contains one of these (a cheap whole-text pre-check). */
const HINT = /d\.?o\.?b|birth|born|geburt|naissance/gi;
const MONTHS = "(?:jan|feb|mar|apr|may|jun|jul|aug|sep|sept|oct|nov|dec)[a-z]{0,6}\\.?";

export function dobDetector(): Detector {
  return patternDetector({
    id: "date-of-birth",
    kind: "pii",
    label: "DOB",
    pattern: new RegExp(
      `(?<![\\w/.-])(?:\\d{4}-\\d{1,2}-\\d{1,2}|\\d{1,2}[/.-]\\d{1,2}[/.-]\\d{2,4}|\\d{1,2}(?:st|nd|rd|th)? ${MONTHS},? \\d{4}|${MONTHS} \\d{1,2}(?:st|nd|rd|th)?,? \\d{4})(?![\\w]|[/.-]\\d)`,
      "gi",
    ),
    anchor: { pattern: HINT, window: 48 },
    confidence: 0.9,
    explanation: "date next to a date-of-birth label",
    validate(value, text, start) {
      if (!contextBefore(text, start, LABEL, 40)) return null;
      const years = value.match(/\d{4}/);
      if (years) {
        const y = Number(years[0]);
        if (y < 1900 || y > new Date().getUTCFullYear()) return null;
      }
      return { confidence: 0.9 };
    },
  });
}
