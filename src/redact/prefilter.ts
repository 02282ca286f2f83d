/**
 * The prefilter: one cheap pass over a text that finds, line by line, the trigger points the
 * built-in detectors need, so a detector runs only on the lines where it could possibly match
 * (most log lines have no trigger at all and cost just this pass).
 *
 * Every trigger is a NECESSARY condition of its detector on one line: a line without the
 * trigger cannot hold a finding of that detector. (They are not sufficient: a triggered line
 * still goes through the detector and its validator.) This relies on the built-in detectors
 * being line-local — no pattern, context look-up or anchor window crosses a "\n" — with the one
 * exception of private-key blocks, which run over the whole text. `detectAllReference` in
 * detect.ts runs every detector over the whole text; test/redact/prefilter.test.ts checks that
 * both give exactly the same findings.
 *
 * Triggers, per line:
 * - digit runs, classified in the character loop: a card needs a run chain (runs joined by one
 *   space or dash) of ≥ 12 digits from a run that starts at a word boundary with 2–6; an SSN a
 *   9-digit run at a boundary or 3-digit/sep/2-digit runs; a NANP phone a 3-digit run, one of
 *   `-. `, a 4-digit run; an IPv4 four runs joined by single dots; an IPv6 `:hex{0,4}:`;
 *   an E.164 phone `+` and a digit 1–9; an IBAN two capitals after a non-alphanumeric then two
 *   digits;
 * - single characters: `@` (e-mail), `\` + a JSON escape, `%XX`;
 * - base64 runs of ≥ 20 characters with a capital and a digit or `+/` (decoded only then);
 * - token prefixes (one literal regex): `AKIA…`, `ghp_`, `glpat-`, `xox`, `hooks.slack.com`,
 *   `k_live_`, `AIza`, `sk-`, `hf_`, `eyJ`, `-----BEGIN `, `://`;
 * - key words, case-insensitive (one regex): secret/token/key/pass/pwd/credential/bearer for
 *   assignments, aws/amazon for AWS secrets, phone/tel/mobile/… for national phones,
 *   dob/birth/born/… for dates of birth.
 */
import type { Detector } from "./types.js";

/** Trigger bits. A detector is registered with the bits any of which its matches need. */
export const TRIGGER = {
  EMAIL: 1 << 0,
  PHONE: 1 << 1,
  CARD: 1 << 2,
  IBAN: 1 << 3,
  SSN: 1 << 4,
  IP: 1 << 5,
  DOB: 1 << 6,
  AWS_ID: 1 << 7,
  AWS_SECRET: 1 << 8,
  GITHUB: 1 << 9,
  GITLAB: 1 << 10,
  SLACK: 1 << 11,
  SLACK_HOOK: 1 << 12,
  STRIPE: 1 << 13,
  GOOGLE: 1 << 14,
  OPENAI: 1 << 15,
  ANTHROPIC: 1 << 16,
  HUGGINGFACE: 1 << 17,
  JWT: 1 << 18,
  /** Multi-line: the private-key detector always runs over the whole text (a literal search). */
  PRIVATE_KEY: 1 << 19,
  CONNECTION: 1 << 20,
  GENERIC: 1 << 21,
  JSON_ESCAPE: 1 << 22,
  URL_ESCAPE: 1 << 23,
  BASE64: 1 << 24,
} as const;

const TRIGGERS = new WeakMap<Detector, number>();

/** Registers `d` (a built-in) as needing one of `bits` on a line to match there. */
export function withTrigger<D extends Detector>(d: D, bits: number): D {
  TRIGGERS.set(d, bits);
  return d;
}

/** The trigger bits of a registered built-in; undefined (run over the whole text) for any other detector. */
export function triggerOf(d: Detector): number | undefined {
  return TRIGGERS.get(d);
}

/**
 * One byte per UTF-16 code unit of `text`: the unit itself when ASCII, 0x80 (no class) otherwise,
 * plus 8 zero bytes so look-aheads past the end read "nothing". Reading a byte array is much
 * cheaper than String#charCodeAt in the scanner's loop; the copy itself is a native latin1 write.
 */
function unitBytes(text: string): Uint8Array {
  const n = text.length;
  const b = Buffer.allocUnsafe(n + 8);
  b.write(text, 0, n, "latin1");
  b.fill(0, n);
  if (Buffer.byteLength(text, "utf8") !== n) {
    // latin1 keeps only the low byte of a unit, which could pose as ASCII: mark every non-ASCII unit
    NON_ASCII.lastIndex = 0;
    for (let m = NON_ASCII.exec(text); m !== null; m = NON_ASCII.exec(text)) b.fill(0x80, m.index, m.index + m[0].length);
  }
  return b;
}
const NON_ASCII = /[\x80-\uffff]+/g; // UTF-16 code units above ASCII (no `u` flag: a surrogate pair is two units)

/** Lines of a text that have at least one trigger. */
export interface LineTriggers {
  readonly starts: number[];
  readonly ends: number[];
  readonly masks: number[];
  /** OR of every line's mask. */
  readonly any: number;
}

// Character classes. The scanner's loop reads one table entry per character; 0 means "nothing
// to do here" (lower-case letters, punctuation, spaces), which is most of a log line.
const K_DIGIT = 1;
const K_UPPER = 2;
const K_NL = 3;
const K_AT = 4;
const K_BACKSLASH = 5;
const K_PERCENT = 6;
const K_PLUS = 7;
const K_COLON = 8;
const KIND = new Uint8Array(128);
for (let c = 48; c <= 57; c++) KIND[c] = K_DIGIT;
for (let c = 65; c <= 90; c++) KIND[c] = K_UPPER;
KIND[10] = K_NL;
KIND[64] = K_AT;
KIND[92] = K_BACKSLASH;
KIND[37] = K_PERCENT;
KIND[43] = K_PLUS;
KIND[58] = K_COLON;

/** [A-Za-z0-9_]: 1; base64 alphabet [A-Za-z0-9+/_-]: 2; [0-9+/]: 4; hex digit: 8. */
const WORD = 1;
const B64 = 2;
const B64_DIGSYM = 4;
const HEXD = 8;
const CH = new Uint8Array(128);
for (let c = 48; c <= 57; c++) CH[c] = WORD | B64 | B64_DIGSYM | HEXD;
for (let c = 65; c <= 90; c++) CH[c] = WORD | B64 | (c <= 70 ? HEXD : 0);
for (let c = 97; c <= 122; c++) CH[c] = WORD | B64 | (c <= 102 ? HEXD : 0);
CH[95] = WORD | B64; // _
CH[45] = B64; // -
CH[43] = B64 | B64_DIGSYM; // +
CH[47] = B64 | B64_DIGSYM; // /

/** Flags of a char code; 0 for non-ASCII and for NaN (a read past the end). */
const ch = (c: number): number => (c < 128 ? CH[c] : 0);
const isDigit = (c: number): boolean => c >= 48 && c <= 57;
const isUpper = (c: number): boolean => c >= 65 && c <= 90;
const isHex = (c: number): boolean => (ch(c) & HEXD) !== 0;
/** [\w.-]: what the numeric detectors' look-behinds refuse before a match. */
const wordDotDash = (c: number): boolean => c === 46 || c === 45 || (ch(c) & WORD) !== 0;
const isJsonEscapeChar = (c: number): boolean => c === 34 || c === 47 || c === 92;
// the bits as plain constants for the hot loop
const M_EMAIL = TRIGGER.EMAIL;
const M_PHONE = TRIGGER.PHONE;
const M_CARD = TRIGGER.CARD;
const M_IBAN = TRIGGER.IBAN;
const M_SSN = TRIGGER.SSN;
const M_IP = TRIGGER.IP;
const M_JSON_ESCAPE = TRIGGER.JSON_ESCAPE;
const M_URL_ESCAPE = TRIGGER.URL_ESCAPE;
const M_BASE64 = TRIGGER.BASE64;

const T = TRIGGER;
const LITERALS =
  /:\/\/|xox|hooks\.slack\.com|k_live_|k_test_|AIza|sk-|hf_|api_org_|gh[pousr]_|github_pat_|gl(?:pat|dt|rt|ptt|cbt|ft|imt|agent|oas)-|eyJ|-----BEGIN |A(?:KIA|SIA|BIA|CCA|IDA|ROA|IPA|NPA|NVA|GPA|PKA)/g;
function literalBits(m: string): number {
  switch (m.charCodeAt(0)) {
    case 58:
      return T.CONNECTION; // ://
    case 120:
      return T.SLACK; // xox
    case 104:
      return m.charCodeAt(1) === 102 ? T.HUGGINGFACE : T.SLACK_HOOK; // hf_ / hooks.slack.com
    case 107:
      return T.STRIPE; // k_live_ / k_test_
    case 115:
      return T.OPENAI | T.ANTHROPIC; // sk-
    case 97:
      return T.HUGGINGFACE; // api_org_
    case 103:
      return m.charCodeAt(1) === 108 ? T.GITLAB : T.GITHUB; // gl…- / gh?_ / github_pat_
    case 101:
      return T.JWT; // eyJ
    case 45:
      return T.PRIVATE_KEY;
    default:
      return m === "AIza" ? T.GOOGLE : T.AWS_ID; // A…
  }
}

const WORDS = /secret|token|key|pass|pwd|credential|bearer|aws|amazon|d\.?o\.?b|birth|born|geburt|naissance|phone|tel|mobile|cell|fax|whats ?app|sms|msisdn/gi;
function wordBits(m: string): number {
  switch (m.charCodeAt(0) | 0x20) {
    case 115:
      return m.length === 6 ? T.GENERIC | T.AWS_SECRET : T.PHONE; // secret / sms
    case 116:
      return m.length === 5 ? T.GENERIC : T.PHONE; // token / tel
    case 107:
      return T.GENERIC; // key
    case 112:
      return m.length === 5 ? T.PHONE : T.GENERIC | T.CONNECTION; // phone / pass, pwd
    case 99:
      return m.length === 4 ? T.PHONE : T.GENERIC; // cell / credential
    case 98:
      return m.length === 6 ? T.GENERIC : T.DOB; // bearer / birth, born
    case 97:
      return T.AWS_SECRET; // aws / amazon
    case 100:
    case 103:
    case 110:
      return T.DOB; // dob / geburt / naissance
    default:
      return T.PHONE; // mobile, msisdn, fax, whatsapp
  }
}

/**
 * Literals and key words in one regex over the lower-cased text (one pass instead of two; the
 * lower-cased prefixes `akia`, `aiza`, `eyj`, … are a superset of the case-sensitive ones, so
 * the triggers stay necessary conditions). Grouped by first letter so that at any position at
 * most one alternative can match ("sk-" stands for "sk-ant-" too).
 */
const LOWER_TOKENS =
  /s(?:ecret|ms|k-)|t(?:oken|el)|k(?:ey|_live_|_test_)|p(?:ass|wd|hone)|c(?:redential|ell)|b(?:earer|irth|orn)|a(?:ws|mazon|iza|pi_org_|kia|sia|bia|cca|ida|roa|ipa|npa|nva|gpa|pka)|d\.?o\.?b|g(?:eburt|h[pousr]_|ithub_pat_|l(?:pat|dt|rt|ptt|cbt|ft|imt|agent|oas)-)|naissance|m(?:obile|sisdn)|fax|whats ?app|:\/\/|xox|h(?:ooks\.slack\.com|f_)|eyj|-----begin /g;
const TOKEN_BITS = new Map<string, number>();
{
  const add = (bits: number, ...ws: string[]): void => ws.forEach((w) => TOKEN_BITS.set(w, bits));
  add(T.GENERIC | T.AWS_SECRET, "secret");
  add(T.GENERIC, "token", "key", "credential", "bearer");
  add(T.GENERIC | T.CONNECTION, "pass", "pwd");
  add(T.PHONE, "sms", "tel", "phone", "cell", "mobile", "msisdn", "fax", "whatsapp", "whats app");
  add(T.OPENAI | T.ANTHROPIC, "sk-");
  add(T.STRIPE, "k_live_", "k_test_");
  add(T.AWS_SECRET, "aws", "amazon");
  add(T.GOOGLE, "aiza");
  add(T.HUGGINGFACE, "api_org_", "hf_");
  add(T.AWS_ID, "akia", "asia", "abia", "acca", "aida", "aroa", "aipa", "anpa", "anva", "agpa", "apka");
  add(T.DOB, "dob", "d.ob", "do.b", "d.o.b", "birth", "born", "geburt", "naissance");
  add(T.GITHUB, "ghp_", "gho_", "ghu_", "ghs_", "ghr_", "github_pat_");
  add(T.GITLAB, ...["pat", "dt", "rt", "ptt", "cbt", "ft", "imt", "agent", "oas"].map((p) => `gl${p}-`));
  add(T.CONNECTION, "://");
  add(T.SLACK, "xox");
  add(T.SLACK_HOOK, "hooks.slack.com");
  add(T.JWT, "eyj");
  add(T.PRIVATE_KEY, "-----begin ");
}
const tokenBits = (m: string): number => TOKEN_BITS.get(m) ?? -1; // -1: every bit (never taken: the map covers every alternative)

/** ORs `bits(match)` into the mask of the line holding each match of `re` (overlapping matches included). */
function markMatches(text: string, re: RegExp, bits: (m: string) => number, starts: readonly number[], masks: number[]): void {
  let li = 0;
  re.lastIndex = 0;
  for (let m = re.exec(text); m !== null; m = re.exec(text)) {
    const at = m.index;
    while (li + 1 < starts.length && starts[li + 1] <= at) li++;
    masks[li] |= bits(m[0]);
    re.lastIndex = at + 1;
  }
}

/**
 * Trigger bits for every line of `text` (lines are split on "\n"; a "\r" stays in its line).
 * Only lines with a non-zero mask are returned.
 */
export function scanTriggers(text: string): LineTriggers {
  const n = text.length;
  const b = unitBytes(text);
  const allStarts: number[] = [0];
  const allMasks: number[] = [];
  let mask = 0;
  // the previous digit run of this line
  let prevRunEnd = -2;
  let prevRunLen = 0;
  let prevRunBoundary = false;
  let prevRunPc = 10;
  let cardDigits = -1; // digits of the current run chain since its first card-eligible run
  let dotRuns = 0;
  /** End of the last base64 run examined (each run is examined once, at its first capital). */
  let b64Done = 0;
  let i = 0;
  while (i < n) {
    const c = b[i];
    const k = c < 128 ? KIND[c] : 0;
    if (k === 0) {
      i++;
      continue;
    }
    if (k === K_DIGIT) {
      // a whole digit run [s, i), classified at once
      const s = i;
      do i++;
      while (i < n && isDigit(b[i]));
      const len = i - s;
      const pc = s > 0 ? b[s - 1] : 10;
      const cont = s === prevRunEnd + 1;
      const boundary = !wordDotDash(pc);
      const first = c;
      const eligible = boundary && first >= 50 && first <= 54;
      if (cont && (pc === 32 || pc === 45)) cardDigits = cardDigits >= 0 ? cardDigits + len : eligible ? len : -1;
      else cardDigits = eligible ? len : -1;
      if (cardDigits >= 12) mask |= M_CARD;
      if (len === 9 && boundary) mask |= M_SSN;
      else if (len === 2 && cont && prevRunLen === 3 && prevRunBoundary && (pc === 45 || pc === 32)) mask |= M_SSN;
      // NANP: …[-. )]ddd[-. ]dddd
      if (
        len === 4 &&
        cont &&
        prevRunLen === 3 &&
        (pc === 45 || pc === 46 || pc === 32) &&
        (prevRunPc === 45 || prevRunPc === 46 || prevRunPc === 32 || prevRunPc === 41)
      )
        mask |= M_PHONE;
      dotRuns = cont && pc === 46 ? dotRuns + 1 : 1;
      if (dotRuns >= 4) mask |= M_IP;
      prevRunEnd = i;
      prevRunLen = len;
      prevRunBoundary = boundary;
      prevRunPc = pc;
      continue;
    }
    if (k === K_UPPER) {
      // IBAN: (?<![A-Za-z0-9])[A-Z]{2}\d{2}
      if (isUpper(b[i + 1]) && isDigit(b[i + 2]) && isDigit(b[i + 3])) {
        const pc = i > 0 ? b[i - 1] : 10;
        if (pc === 95 || (ch(pc) & WORD) === 0) mask |= M_IBAN;
      }
      // base64: a run of ≥ 20 characters of the alphabet with a capital and a digit or +/
      if (i >= b64Done) {
        let from = i;
        let digSym = false;
        while (from > 0) {
          const f = ch(b[from - 1]);
          if ((f & B64) === 0) break;
          if ((f & B64_DIGSYM) !== 0) digSym = true;
          from--;
        }
        let to = i + 1;
        while (to < n) {
          const f = ch(b[to]);
          if ((f & B64) === 0) break;
          if ((f & B64_DIGSYM) !== 0) digSym = true;
          to++;
        }
        if (to - from >= 20 && digSym) mask |= M_BASE64;
        b64Done = to;
      }
      i++;
      continue;
    }
    if (k === K_NL) {
      allMasks.push(mask);
      mask = 0;
      allStarts.push(i + 1);
    } else if (k === K_AT) mask |= M_EMAIL;
    else if (k === K_COLON) {
      // IPv6: :[0-9A-Fa-f]{0,4}:
      let j = i + 1;
      while (j < n && j - i <= 4 && isHex(b[j])) j++;
      if (j < n && b[j] === 58) mask |= M_IP;
    } else if (k === K_PLUS) {
      const d = b[i + 1];
      if (d >= 49 && d <= 57) mask |= M_PHONE;
    } else if (k === K_BACKSLASH) {
      const e = b[i + 1];
      if (isJsonEscapeChar(e) || (e === 117 && isHex(b[i + 2]) && isHex(b[i + 3]) && isHex(b[i + 4]) && isHex(b[i + 5]))) mask |= M_JSON_ESCAPE;
    } else if (k === K_PERCENT) {
      if (isHex(b[i + 1]) && isHex(b[i + 2])) mask |= M_URL_ESCAPE;
    }
    i++;
  }
  allMasks.push(mask);
  const lower = text.toLowerCase();
  if (lower.length === text.length) markMatches(lower, LOWER_TOKENS, tokenBits, allStarts, allMasks);
  else {
    // a few non-ASCII characters change length when lower-cased: two case-aware passes instead
    markMatches(text, LITERALS, literalBits, allStarts, allMasks);
    markMatches(text, WORDS, wordBits, allStarts, allMasks);
  }
  const starts: number[] = [];
  const ends: number[] = [];
  const masks: number[] = [];
  let any = 0;
  for (let li = 0; li < allStarts.length; li++) {
    const m = allMasks[li];
    if (m === 0) continue;
    any |= m;
    starts.push(allStarts[li]);
    ends.push(li + 1 < allStarts.length ? allStarts[li + 1] - 1 : n);
    masks.push(m);
  }
  return { starts, ends, masks, any };
}
