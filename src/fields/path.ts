/**
 * Field paths. Grammar (docs/fields.md):
 *   path    = segment *("." segment)
 *   segment = name *("[" ("*" / 1*DIGIT) "]")
 *   name    = 1*(any character but . [ ]), where "*" matches any run of characters
 * JSON records are walked segment by segment; flat records (CSV, Parquet) match the whole
 * pattern against each column name ("*" wildcards only).
 */
import { FieldError } from "./errors.js";

type Step = { kind: "key"; name: string; glob: RegExp | null } | { kind: "index"; index: number | "*" };

/** One place in a record a rule applies to. */
export interface FieldMatch {
  readonly parent: Record<string, unknown> | unknown[];
  readonly key: string | number;
  /** Concrete path, e.g. `a.b[2].c` (bound into randomized encryption). */
  readonly path: string;
  /** Path with indices as [*], e.g. `a.b[*].c` (deterministic encryption, tokens). */
  readonly schemaPath: string;
}

export interface CompiledPath {
  readonly source: string;
  readonly steps: readonly Step[];
  readonly flatGlob: RegExp;
  readonly hasWildcard: boolean;
}

function globToRegExp(glob: string): RegExp {
  return new RegExp(
    "^" +
      glob
        .split("*")
        .map((s) => s.replace(/[\\^$.|?+()[\]{}]/g, "\\$&"))
        .join(".*") +
      "$",
    "s",
  );
}

/** @throws FieldError(INVALID_ARGUMENT) for an empty or malformed path. */
export function compilePath(source: string): CompiledPath {
  const steps: Step[] = [];
  const bad = (why: string) => new FieldError("INVALID_ARGUMENT", `invalid field path ${JSON.stringify(source)}: ${why}`);
  if (typeof source !== "string" || source.length === 0) throw bad("empty");
  for (const seg of source.split(".")) {
    const m = /^([^.[\]]+)((?:\[(?:\*|\d+)\])*)$/.exec(seg);
    if (!m) throw bad(`segment ${JSON.stringify(seg)} is not name[index]…`);
    const name = m[1];
    steps.push({ kind: "key", name, glob: name.includes("*") ? globToRegExp(name) : null });
    for (const ix of m[2].match(/\[(\*|\d+)\]/g) ?? []) {
      const inner = ix.slice(1, -1);
      steps.push({ kind: "index", index: inner === "*" ? "*" : Number(inner) });
    }
  }
  return { source, steps, flatGlob: globToRegExp(source), hasWildcard: source.includes("*") };
}

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === "object" && v !== null && !Array.isArray(v);

/** Where `path` applies in `record`. Flat records match whole column names. */
export function findMatches(path: CompiledPath, record: Record<string, unknown>, flat: boolean): FieldMatch[] {
  if (flat) {
    if (!path.hasWildcard) return Object.hasOwn(record, path.source) ? [{ parent: record, key: path.source, path: path.source, schemaPath: path.source }] : [];
    return Object.keys(record)
      .filter((k) => path.flatGlob.test(k))
      .map((k) => ({ parent: record, key: k, path: k, schemaPath: k }));
  }
  const out: FieldMatch[] = [];
  const walk = (node: unknown, i: number, parent: FieldMatch["parent"] | null, key: string | number, p: string, sp: string): void => {
    if (i === path.steps.length) {
      if (parent !== null) out.push({ parent, key, path: p, schemaPath: sp });
      return;
    }
    const step = path.steps[i];
    if (step.kind === "key") {
      if (!isObject(node)) return;
      const join = (k: string) => (p === "" ? k : `${p}.${k}`);
      const joinS = (k: string) => (sp === "" ? k : `${sp}.${k}`);
      if (step.glob === null) {
        if (Object.hasOwn(node, step.name)) walk(node[step.name], i + 1, node, step.name, join(step.name), joinS(step.name));
      } else {
        for (const k of Object.keys(node)) if (step.glob.test(k)) walk(node[k], i + 1, node, k, join(k), joinS(k));
      }
    } else {
      if (!Array.isArray(node)) return;
      if (step.index === "*") node.forEach((v, j) => walk(v, i + 1, node, j, `${p}[${j}]`, `${sp}[*]`));
      else if (step.index < node.length) walk(node[step.index], i + 1, node, step.index, `${p}[${step.index}]`, `${sp}[*]`);
    }
  };
  walk(record, 0, null, "", "", "");
  return out;
}

/** The value at a concrete, wildcard-free path, or undefined. */
export function getPath(path: CompiledPath, record: Record<string, unknown>, flat: boolean): unknown {
  const m = findMatches(path, record, flat);
  return m.length === 0 ? undefined : (m[0].parent as Record<string | number, unknown>)[m[0].key];
}

/** Every leaf (non-object, non-array value) of a record with its schema path, for `check`. */
export function leafPaths(record: unknown, flat: boolean): Array<{ schemaPath: string; value: unknown }> {
  const out: Array<{ schemaPath: string; value: unknown }> = [];
  if (flat && isObject(record)) {
    for (const [k, v] of Object.entries(record)) out.push({ schemaPath: k, value: v });
    return out;
  }
  const walk = (node: unknown, sp: string): void => {
    if (Array.isArray(node)) node.forEach((v) => walk(v, `${sp}[*]`));
    else if (isObject(node)) for (const [k, v] of Object.entries(node)) walk(v, sp === "" ? k : `${sp}.${k}`);
    else if (sp !== "") out.push({ schemaPath: sp, value: node });
  };
  walk(record, "");
  return out;
}
