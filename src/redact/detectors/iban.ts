/** IBANs (ISO 13616): country code, check digits, BBAN of the country's length, mod-97 == 1. */
import type { Detector, Finding } from "../types.js";
import { mod97 } from "./util.js";

/** Total IBAN length per country (SWIFT IBAN registry). */
export const IBAN_LENGTHS: Readonly<Record<string, number>> = {
  AD: 24,
  AE: 23,
  AL: 28,
  AT: 20,
  AZ: 28,
  BA: 20,
  BE: 16,
  BG: 22,
  BH: 22,
  BR: 29,
  BY: 28,
  CH: 21,
  CR: 22,
  CY: 28,
  CZ: 24,
  DE: 22,
  DK: 18,
  DO: 28,
  EE: 20,
  EG: 29,
  ES: 24,
  FI: 18,
  FO: 18,
  FR: 27,
  GB: 22,
  GE: 22,
  GI: 23,
  GL: 18,
  GR: 27,
  GT: 28,
  HR: 21,
  HU: 28,
  IE: 22,
  IL: 23,
  IQ: 23,
  IS: 26,
  IT: 27,
  JO: 30,
  KW: 30,
  KZ: 20,
  LB: 28,
  LC: 32,
  LI: 21,
  LT: 20,
  LU: 20,
  LV: 21,
  MC: 27,
  MD: 24,
  ME: 22,
  MK: 19,
  MR: 27,
  MT: 31,
  MU: 30,
  NL: 18,
  NO: 15,
  PK: 24,
  PL: 28,
  PS: 29,
  PT: 25,
  QA: 29,
  RO: 24,
  RS: 22,
  SA: 24,
  SC: 31,
  SE: 24,
  SI: 19,
  SK: 24,
  SM: 27,
  ST: 25,
  SV: 28,
  TL: 23,
  TN: 24,
  TR: 26,
  UA: 29,
  VA: 22,
  VG: 24,
  XK: 20,
};

const CANDIDATE = /(?<![A-Za-z0-9])[A-Z]{2}\d{2}(?: ?[A-Z0-9]){11,30}/g;

/** The candidate is trimmed to the country's length, so trailing words do not spoil a match. */
export function ibanDetector(): Detector {
  const re = new RegExp(CANDIDATE.source, "g");
  return {
    id: "iban",
    kind: "pii",
    label: "IBAN",
    find(text: string): Finding[] {
      const out: Finding[] = [];
      re.lastIndex = 0;
      for (let m = re.exec(text); m !== null; m = re.exec(text)) {
        const want = IBAN_LENGTHS[m[0].slice(0, 2)];
        if (want === undefined) continue;
        let n = 0;
        let i = 0;
        const s = m[0];
        while (i < s.length && n < want) {
          if (s[i] !== " ") n++;
          i++;
        }
        if (n < want) continue;
        const end = m.index + i;
        const next = text.charCodeAt(end);
        if ((next >= 48 && next <= 57) || (next >= 65 && next <= 90) || (next >= 97 && next <= 122)) continue;
        const compact = s.slice(0, i).replace(/ /g, "");
        const grouped = s.slice(0, i).includes(" ");
        if (grouped && !/^[A-Z0-9]{4}(?: [A-Z0-9]{4})*(?: [A-Z0-9]{1,4})?$/.test(s.slice(0, i))) continue;
        if (!mod97(compact)) continue;
        out.push({
          detector: "iban",
          kind: "pii",
          label: "IBAN",
          start: m.index,
          end,
          confidence: 0.97,
          explanation: `IBAN (${compact.slice(0, 2)}): country length and mod-97 check pass`,
        });
        re.lastIndex = end;
      }
      return out;
    },
  };
}
