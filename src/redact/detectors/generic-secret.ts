/**
 * Generic secrets in assignments: a key whose name says secret (`api_key`, `secret`,
 * `token`, `password`, `client_secret`, `access_key`, `auth`, `credentials`) followed by
 * `=`, `:`, `:=` or `=>` and a value. The value is reported when its Shannon entropy is at
 * least `ENTROPY_THRESHOLD` bits/char (16+ characters) or, for password-like keys, when it
 * mixes character classes (8+ characters). Values that are code rather than data are
 * skipped: function calls, dotted names, `${VAR}`/`process.env.X`, numbers, booleans, nulls.
 */
import type { Detector, Finding } from "../types.js";
import { charClasses, entropy, looksLikePlaceholder } from "./util.js";

/** Bits per character a 16+ character value must reach (random base64 ≈ 5.5, English ≈ 3.5–4). */
export const ENTROPY_THRESHOLD = 3.5;

const KEY =
  /(?:api[_-]?key|apikey|api[_-]?secret|secret(?:[_-]?key)?|client[_-]?secret|access[_-]?key|access[_-]?token|refresh[_-]?token|auth[_-]?token|bearer[_-]?token|token|passw(?:or)?d|pwd|pass|credentials?|private[_-]?key|signing[_-]?key|encryption[_-]?key|master[_-]?key|session[_-]?key|webhook[_-]?secret)(?:[_-](?:id|value|key|secret|token))?(?![A-Za-z0-9])/gi;
const BEARER = /(?<![A-Za-z0-9])bearer[^\S\n]{1,3}([A-Za-z0-9._~+/-]{16,2048}=*)(?![A-Za-z0-9._~+/=-])/dgi;
/** Every KEY alternative contains one of these roots; BEARER contains "bearer". */
const ROOTS = /key|secret|token|pass|pwd|credential|bearer/i;
const SEP = /^["'\]]?[^\S\n]{0,3}(?::=|=>|==|=|:)[^\S\n]{0,3}(?:["'`]|b["']|r["'])?/;
const PASSWORD_KEY = /passw(?:or)?d|pwd|pass$/i;
const NOT_A_VALUE =
  /^(?:true|false|null|none|nil|undefined|yes|no|on|off|required|optional|string|bool|int|str|bytes|any|object|env|secret|token|password|\d+(?:\.\d+)?)$/i;

/** Characters that end an unquoted value: whitespace , ; ) } ] " ' ` < > */
const STOP = new Set([9, 10, 11, 12, 13, 32, 44, 59, 41, 125, 93, 34, 39, 96, 60, 62]);

function valueEnd(text: string, from: number, quote: string | null): number {
  let i = from;
  const max = Math.min(text.length, from + 256);
  const q = quote === null ? -1 : quote.charCodeAt(0);
  while (i < max) {
    const c = text.charCodeAt(i);
    if (q >= 0 ? c === q || c === 10 : STOP.has(c)) break;
    if (q >= 0 && c === 92) i++;
    i++;
  }
  return Math.min(i, max);
}

/** `Authorization: Bearer <token>` with a random-looking token. */
function bearer(text: string, seen: readonly Finding[], re: RegExp): Finding[] {
  const out: Finding[] = [];
  re.lastIndex = 0;
  for (let m = re.exec(text); m !== null; m = re.exec(text)) {
    const [start, end] = m.indices![1];
    const value = m[1];
    if (seen.some((f) => f.start < end && start < f.end)) continue;
    if (looksLikePlaceholder(value) || charClasses(value) < 2 || entropy(value) < ENTROPY_THRESHOLD) continue;
    out.push({
      detector: "generic-secret",
      kind: "secret",
      label: "SECRET",
      start,
      end,
      confidence: 0.85,
      explanation: "bearer token in an Authorization value",
    });
  }
  return out;
}

export function genericSecretDetector(): Detector {
  // compiled once per detector, reset per call: find() is synchronous and never re-entered
  const re = new RegExp(KEY.source, "gi");
  const bearerRe = new RegExp(BEARER.source, "dgi");
  return {
    id: "generic-secret",
    kind: "secret",
    label: "SECRET",
    find(text: string): Finding[] {
      const out: Finding[] = [];
      if (!ROOTS.test(text)) return out;
      re.lastIndex = 0;
      for (let m = re.exec(text); m !== null; m = re.exec(text)) {
        const prev = m.index > 0 ? text.charCodeAt(m.index - 1) : 32;
        const first = m[0].charCodeAt(0);
        const prevAlnum = (prev >= 48 && prev <= 57) || (prev >= 65 && prev <= 90) || (prev >= 97 && prev <= 122);
        // inside a word only at a camelCase boundary: dbPassword yes, compass / COMPASS no
        if (prevAlnum && !(first >= 65 && first <= 90 && !(prev >= 65 && prev <= 90))) continue;
        const after = text.slice(re.lastIndex, re.lastIndex + 16);
        const sep = SEP.exec(after);
        if (!sep || !/[:=]/.test(sep[0])) continue;
        if (sep[0].includes("==")) continue; // a comparison, not an assignment
        const opened = sep[0].match(/["'`]$/)?.[0] ?? null;
        const start = re.lastIndex + sep[0].length;
        const end = valueEnd(text, start, opened);
        const value = text.slice(start, end);
        if (opened !== null && text[end] !== opened) continue;
        if (opened === null && (text[end] === "(" || (/^[A-Za-z_$][\w$]*(?:\.[A-Za-z_$][\w$]*)+$/.test(value) && !/\d/.test(value)))) continue;
        if (value.length < 8 || NOT_A_VALUE.test(value) || looksLikePlaceholder(value)) continue;
        if (/^(?:\$\{?|%\(|\{\{|process\.env|os\.environ|getenv|env\(|ENV\[|vault:|secret:|arn:|ref\+)/i.test(value)) continue;
        const key = m[0];
        const h = entropy(value);
        const classes = charClasses(value);
        let confidence = 0;
        if (value.length >= 16 && h >= ENTROPY_THRESHOLD && classes >= 2) confidence = h >= 4.2 ? 0.85 : 0.75;
        else if (PASSWORD_KEY.test(key) && value.length >= 8 && classes >= 2 && h >= 2.5 && !/^[a-z]+[_-][a-z_-]+$/.test(value)) confidence = 0.75;
        if (confidence === 0) continue;
        out.push({
          detector: "generic-secret",
          kind: "secret",
          label: "SECRET",
          start,
          end,
          confidence,
          explanation: `value assigned to "${key}" (entropy ${h.toFixed(1)} bits/char)`,
        });
        re.lastIndex = end;
      }
      if (/bearer/i.test(text)) out.push(...bearer(text, out, bearerRe));
      return out.sort((a, b) => a.start - b.start);
    },
  };
}
