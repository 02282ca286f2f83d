/** Rewriting one source file (Python, JS/TS, shell) or .env file: pure text in, text out. */
import type { Finding } from "../../redact/types.js";
import { type FixLanguage, assignedName, replaceWithEnvRead } from "./literal.js";
import type { Naming } from "./naming.js";
import { pipesealRun } from "./run-line.js";

export interface Moved {
  readonly value: string;
  readonly variable: string;
  readonly secret: string;
}

export interface Skipped {
  readonly offset: number;
  readonly detector: string;
  readonly reason: string;
}

export interface Rewritten {
  readonly text: string;
  readonly moved: Moved[];
  readonly skipped: Skipped[];
}

/** Adds `import os` after a shebang, encoding line, module docstring and `from __future__` imports, unless os is imported. */
export function ensurePythonOsImport(text: string): string {
  if (/^\s*(?:import\s+(?:[\w.]+\s*,\s*)*os\b|from\s+os\s+import\b)/m.test(text)) return text;
  const lines = text.split("\n");
  let at = 0;
  while (at < lines.length && /^#/.test(lines[at])) at++; // shebang, coding, comments
  const doc = /^[rRuU]?("""|''')/.exec(lines[at] ?? "");
  if (doc) {
    const q = doc[1];
    const first = lines[at].slice(doc[0].length);
    if (!first.includes(q)) {
      at++;
      while (at < lines.length && !lines[at].includes(q)) at++;
    }
    at++;
  }
  while (at < lines.length && /^from\s+__future__\s+import\b/.test(lines[at])) at++;
  lines.splice(at, 0, "import os");
  return lines.join("\n");
}

const fallbackName = (detector: string) => detector.replace(/-/g, "_");

/** Identifiers that say nothing about whose secret it is: `api_key=` with an Anthropic key becomes ANTHROPIC_API_KEY. */
const GENERIC = /^(?:api_?key|key|token|secret|password|passwd|auth|access_?token|credentials?)$/i;

function variableFor(text: string, f: Finding): string {
  const name = assignedName(text, f.start);
  if (name === undefined) return fallbackName(f.detector);
  const vendor = f.detector.split("-")[0];
  if (GENERIC.test(name) && !["generic", "connection", "private", "jwt"].includes(vendor)) return `${vendor}_${name}`;
  return name;
}

/** Rewrites every secret finding in code of `lang`; findings outside a literal are skipped. */
export function rewriteCode(text: string, findings: readonly Finding[], lang: FixLanguage, naming: Naming, file: string): Rewritten {
  const forward = [...findings].sort((a, b) => a.start - b.start);
  const names = forward.map((f) => naming.assign(text.slice(f.start, f.end), variableFor(text, f), file));
  let out = text;
  const moved: Moved[] = [];
  const skipped: Skipped[] = [];
  for (let i = forward.length - 1; i >= 0; i--) {
    const f = forward[i];
    const next = replaceWithEnvRead(out, f.start, f.end, names[i].variable, lang);
    if (next === undefined) {
      skipped.push({ offset: f.start, detector: f.detector, reason: "not inside a one-line string literal; move it by hand" });
      continue;
    }
    out = next;
    moved.push({ value: text.slice(f.start, f.end), variable: names[i].variable, secret: names[i].secret });
  }
  if (lang === "python" && moved.length > 0) out = ensurePythonOsImport(out);
  return { text: out, moved: moved.reverse(), skipped };
}

const ENV_LINE = /^(\s*)(export\s+)?([A-Za-z_][A-Za-z0-9_.]*)\s*=\s*(.*?)\s*$/;

/** The value of a .env line's right-hand side: quotes removed (and `\n` escapes in double quotes), a trailing ` # comment` dropped. */
function dotenvValue(rhs: string): string {
  const q = rhs[0];
  if ((q === '"' || q === "'") && rhs.lastIndexOf(q) > 0) {
    const inner = rhs.slice(1, rhs.lastIndexOf(q));
    return q === '"' ? inner.replace(/\\n/g, "\n").replace(/\\(["\\])/g, "$1") : inner;
  }
  return rhs.replace(/\s+#.*$/, "");
}

/**
 * A .env file: each line holding a secret is replaced by a comment naming the secret and the
 * `pipeseal run` binding (`run`: its start, run-line.ts); the whole right-hand side is what moves (a connection string moves
 * whole, not just its password).
 */
export function rewriteDotenv(text: string, findings: readonly Finding[], naming: Naming, file: string, run = pipesealRun()): Rewritten {
  const lines = text.split("\n");
  const starts: number[] = [];
  for (let i = 0, off = 0; i < lines.length; off += lines[i].length + 1, i++) starts.push(off);
  const lineOf = (offset: number) => {
    let lo = 0;
    while (lo + 1 < starts.length && starts[lo + 1] <= offset) lo++;
    return lo;
  };
  const moved: Moved[] = [];
  const skipped: Skipped[] = [];
  const done = new Set<number>();
  for (const f of [...findings].sort((a, b) => a.start - b.start)) {
    const n = lineOf(f.start);
    if (done.has(n)) continue;
    const m = ENV_LINE.exec(lines[n]);
    if (!m) {
      skipped.push({ offset: f.start, detector: f.detector, reason: "not a KEY=value line" });
      continue;
    }
    done.add(n);
    const value = dotenvValue(m[4]);
    const { variable, secret } = naming.assign(value, m[3], file);
    lines[n] = `${m[1]}# ${m[3]} moved to the pipeseal secret store as ${secret}; run with: ${run} --secret ${variable}=${secret} -- <command>`;
    moved.push({ value, variable, secret });
  }
  return { text: lines.join("\n"), moved, skipped };
}
