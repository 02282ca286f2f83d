/**
 * `planFixes`: what `scan --fix` would do, computed without side effects (plan, then apply).
 * Walks the paths like the scanner, finds secrets with the same detectors, and for Python,
 * JavaScript/TypeScript, shell, .env files and notebooks computes the rewritten text, the
 * secrets to store (with their values: the plan must stay in memory and never be printed), what
 * it could not fix, and the `pipeseal run` lines that run the fixed programs.
 */
import { statSync } from "node:fs";
import path from "node:path";
import { detectAll } from "../../redact/detect.js";
import { builtinDetectors } from "../../redact/detectors/index.js";
import type { Detector } from "../../redact/types.js";
import { classify } from "../classify.js";
import { lineStarts, position } from "../text.js";
import { DEFAULT_MAX_FILE_SIZE } from "../types.js";
import { walk } from "../walk.js";
import { type Moved, rewriteCode, rewriteDotenv } from "./code.js";
import type { FixLanguage } from "./literal.js";
import { createNaming, secretPrefix } from "./naming.js";
import { rewriteNotebook } from "./notebook-fix.js";
import { pipesealRun } from "./run-line.js";

export interface FixOptions {
  /** Paths in the plan are relative to this folder (default: the current folder). */
  readonly root?: string;
  /** Store names are `<prefix>/<variable>` (default: the root folder's name). */
  readonly prefix?: string;
  /** Secret names already in the store: never reused. */
  readonly taken?: ReadonlySet<string>;
  readonly detectors?: readonly Detector[];
  readonly minConfidence?: number;
  readonly gitignore?: boolean;
  readonly maxFileSize?: number;
  /**
   * Program options the printed `pipeseal run` lines start with, so they read the secrets from
   * the store they were moved to (`--server URL --cert DIR` when that is the key service's).
   */
  readonly runFlags?: readonly string[];
}

export interface FileFix {
  readonly path: string;
  readonly abs: string;
  readonly kind: FixLanguage | "dotenv" | "notebook";
  readonly before: string;
  readonly after: string;
  readonly mode: number;
  /** Variables this file now reads. */
  readonly variables: string[];
}

export interface PlannedSecret {
  readonly name: string;
  readonly variable: string;
  /** The value to store. Never print it. */
  readonly value: string;
  readonly files: string[];
}

export interface Unfixed {
  readonly path: string;
  readonly line: number;
  readonly column: number;
  readonly detector: string;
  readonly reason: string;
}

export interface FixPlan {
  readonly files: FileFix[];
  readonly secrets: PlannedSecret[];
  readonly unfixed: Unfixed[];
  /** `pipeseal run …` lines for the fixed programs. */
  readonly runLines: string[];
}

function kindOf(rel: string, text: string): FileFix["kind"] | undefined {
  const base = rel.split("/").pop()!.toLowerCase();
  if (base === ".env" || base.startsWith(".env.") || base.endsWith(".env")) return "dotenv";
  if (base.endsWith(".ipynb")) return "notebook";
  if (base.endsWith(".py")) return "python";
  if (/\.(?:[cm]?[jt]s|[jt]sx)$/.test(base)) return "js";
  if (/\.(?:sh|bash|zsh)$/.test(base) || /^#!.*\b(?:ba|z)?sh\b/.test(text)) return "shell";
  return undefined;
}

function runner(f: FileFix): string | undefined {
  if (f.kind === "python") return `python3 ${f.path}`;
  if (f.kind === "js") return /\.[cm]?ts$|\.tsx$/.test(f.path) ? `npx tsx ${f.path}` : `node ${f.path}`;
  if (f.kind === "shell") return `bash ${f.path}`;
  if (f.kind === "notebook") return `jupyter lab ${f.path}`;
  return undefined;
}

/**
 * @throws the `lstat` error when a path given does not exist.
 */
export async function planFixes(paths: readonly string[], options: FixOptions = {}): Promise<FixPlan> {
  const root = path.resolve(options.root ?? ".");
  const rel = (abs: string) => path.relative(root, abs).split(path.sep).join("/") || path.basename(abs);
  const detectors = options.detectors ?? builtinDetectors();
  const naming = createNaming(options.prefix ?? secretPrefix(path.basename(root)), options.taken ?? new Set());
  const files: FileFix[] = [];
  const unfixed: Unfixed[] = [];
  const secrets = new Map<string, { name: string; variable: string; value: string; files: Set<string> }>();
  const notebooks: { abs: string; rel: string; text: string; mode: number }[] = [];
  const find = (text: string) =>
    detectAll(text, detectors, options.minConfidence === undefined ? {} : { minConfidence: options.minConfidence }).filter((f) => f.kind === "secret");
  const record = (file: string, moved: Moved[]) => {
    for (const m of moved) {
      const s = secrets.get(m.value) ?? { name: m.secret, variable: m.variable, value: m.value, files: new Set<string>() };
      s.files.add(file);
      secrets.set(m.value, s);
    }
  };
  const skip = (file: string, text: string, offset: number, detector: string, reason: string) =>
    unfixed.push({ path: file, ...position(lineStarts(text), offset), detector, reason });

  for await (const entry of walk(paths, { root, gitignore: options.gitignore ?? true, rel })) {
    if (entry.type === "note") continue;
    const c = classify(entry.abs, entry.size, options.maxFileSize ?? DEFAULT_MAX_FILE_SIZE);
    if (c.type !== "text") continue;
    const file = rel(entry.abs);
    const mode = statSync(entry.abs).mode & 0o7777;
    const kind = kindOf(file, c.text);
    if (kind === "notebook") {
      notebooks.push({ abs: entry.abs, rel: file, text: c.text, mode });
      continue;
    }
    const found = find(c.text);
    if (found.length === 0) continue;
    if (kind === undefined) {
      for (const f of found) skip(file, c.text, f.start, f.detector, "not a file type scan --fix rewrites (Python, JS/TS, shell, .env, notebooks)");
      continue;
    }
    const r = kind === "dotenv" ? rewriteDotenv(c.text, found, naming, file, pipesealRun(options.runFlags)) : rewriteCode(c.text, found, kind, naming, file);
    for (const s of r.skipped) skip(file, c.text, s.offset, s.detector, s.reason);
    if (r.moved.length === 0) continue;
    record(file, r.moved);
    files.push({ path: file, abs: entry.abs, kind, before: c.text, after: r.text, mode, variables: [...new Set(r.moved.map((m) => m.variable))] });
  }
  // notebooks last: an output showing a value moved from another file is cleared too
  for (const nb of notebooks) {
    const r = rewriteNotebook(nb.text, detectors, options.minConfidence, naming, nb.rel, new Set(secrets.keys()));
    if (r === undefined) continue;
    for (const s of r.skipped) unfixed.push({ path: nb.rel, line: 1, column: 1, detector: s.detector, reason: `cell ${s.cell}: ${s.reason}` });
    if (r.text === nb.text) continue;
    record(nb.rel, r.moved);
    files.push({
      path: nb.rel,
      abs: nb.abs,
      kind: "notebook",
      before: nb.text,
      after: r.text,
      mode: nb.mode,
      variables: [...new Set(r.moved.map((m) => m.variable))],
    });
  }
  const planned = [...secrets.values()].map((s) => ({ name: s.name, variable: s.variable, value: s.value, files: [...s.files] }));
  return { files, secrets: planned, unfixed, runLines: runLines(files, planned, options.runFlags ?? []) };
}

function runLines(files: readonly FileFix[], secrets: readonly PlannedSecret[], flags: readonly string[]): string[] {
  const pipeseal = pipesealRun(flags);
  const byVariable = new Map(secrets.map((s) => [s.variable, s.name]));
  const fromDotenv = files.filter((f) => f.kind === "dotenv").flatMap((f) => f.variables);
  const bind = (vars: readonly string[]) => [...new Set(vars)].map((v) => `--secret ${v}=${byVariable.get(v)}`).join(" ");
  const lines = files.flatMap((f) => {
    const run = runner(f);
    return run === undefined ? [] : [`${pipeseal} ${bind([...f.variables, ...fromDotenv])} -- ${run}`];
  });
  if (lines.length === 0 && fromDotenv.length > 0) lines.push(`${pipeseal} ${bind(fromDotenv)} -- <command>`);
  return lines;
}
