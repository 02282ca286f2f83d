/**
 * The one strict reader for pipeseal's YAML (and JSON) files: text → plain data checked against
 * a declared JSON Schema (ajv), with every error on one line as `file:LINE:COL: path: message`.
 *
 * Why JSON Schema and ajv: fastify already carries ajv, the schemas double as documentation,
 * and one reader replaces a hand-written validator per file. The reader keeps the YAML node
 * tree beside the data so that a schema error, and any later check the caller makes
 * ({@link YamlDocument.fail}), points at the node at fault.
 *
 * Messages never echo a value from the file (a wrong file given as a policy could be a secrets
 * file): they name keys, paths, types and the allowed values the schema declares. Keys are
 * shown truncated and stripped of control characters.
 */
import { Ajv, type ErrorObject, type ValidateFunction } from "ajv";
import { LineCounter, isMap, isSeq, parseDocument, type Document, type Node } from "yaml";
import { yamlErrorPosition, yamlMessage } from "./yaml.js";

/** A 1-based line and column in the file. */
export interface YamlPosition {
  readonly line: number;
  readonly col: number;
}

/** A path into the data: mapping keys and list indexes. */
export type YamlPath = readonly (string | number)[];

/** Builds the reader's error from its one-line message (`file:LINE:COL: …`) and position. */
export type YamlErrorFactory = (message: string, at: YamlPosition) => Error;

/** A read and checked file: its data, and where each part of it was. */
export interface YamlDocument<T> {
  readonly data: T;
  readonly file: string;
  /**
   * Where the value at `path` is (the nearest enclosing node that exists; 1:1 for the root),
   * or, with `"key"`, the mapping key that names it.
   */
  at(path: YamlPath, target?: "value" | "key"): YamlPosition;
  /** Throws the reader's error for the value (or key) at `path`: `file:LINE:COL: path: message`. */
  fail(path: YamlPath, message: string, target?: "value" | "key"): never;
}

/** A reader for one kind of file, compiled once. */
export type YamlReader<T> = (text: string, file: string) => YamlDocument<T>;

// verbose: errors carry their parent schema (for `hint` and the allowed keys); their `data` is never shown.
// allErrors: a misspelt key is then shown before the required key it was meant to be (files are small)
const ajv = new Ajv({ allErrors: true, strict: true, allowUnionTypes: true, verbose: true });
// `hint` says in words what a `pattern` means; it is shown instead of the regular expression
ajv.addKeyword({ keyword: "hint", schemaType: "string" });

/**
 * Compiles `schema` into a reader. The schema is the file's declaration; checks it cannot
 * express (references between sections, compiled patterns) are the caller's, through
 * {@link YamlDocument.fail}.
 * @example const read = yamlReader<GatewayFile>(GATEWAY_SCHEMA, (m) => new UsageError("INVALID_ARGUMENT", m));
 */
export function yamlReader<T>(schema: object, makeError: YamlErrorFactory): YamlReader<T> {
  const validate = ajv.compile(schema);
  return (text, file) => readYaml<T>(text, file, validate, makeError);
}

/**
 * The same check for data built in code (a library caller's object rather than a file): the
 * first mistake as `path: message`, with no position to give.
 * @example const check = schemaChecker<RedactPolicy>(SCHEMA, (m) => new UsageError("INVALID_ARGUMENT", m)); check(policy);
 */
export function schemaChecker<T>(schema: object, makeError: (message: string) => Error): (data: unknown) => T {
  const validate = ajv.compile(schema);
  return (data) => {
    if (validate(data)) return data as T;
    const { path, message } = describe(pickError(validate.errors ?? []));
    const where = formatPath(path);
    throw makeError(where === "" ? message : `${where}: ${message}`);
  };
}

function readYaml<T>(text: string, file: string, validate: ValidateFunction, makeError: YamlErrorFactory): YamlDocument<T> {
  const lc = new LineCounter();
  if (typeof text !== "string") throw makeError(`${file}:1:1: the file must be text`, { line: 1, col: 1 });
  const doc = parseDocument(text, { lineCounter: lc, prettyErrors: false, uniqueKeys: true });
  const syntax = doc.errors[0];
  if (syntax !== undefined) {
    const pos = yamlErrorPosition(syntax, lc);
    throw makeError(`${file}:${pos.line}:${pos.col}: YAML: ${yamlMessage(syntax)}`, pos);
  }
  let data: unknown;
  try {
    // toJS refuses alias expansion past its limit (the "billion laughs"); anything it throws is the file's fault
    data = doc.toJS({ maxAliasCount: 100 });
  } catch (e) {
    throw makeError(`${file}:1:1: YAML: ${yamlMessage(e as Error)}`, { line: 1, col: 1 });
  }
  const at = (path: YamlPath, target: "value" | "key" = "value"): YamlPosition => positionOf(doc, lc, path, target);
  const fail = (path: YamlPath, message: string, target: "value" | "key" = "value"): never => {
    const pos = at(path, target);
    const where = formatPath(path);
    throw makeError(`${file}:${pos.line}:${pos.col}: ${where === "" ? "" : `${where}: `}${message}`, pos);
  };
  if (!validate(data)) {
    const e = pickError(validate.errors ?? []);
    const { path, message, target } = describe(e);
    fail(path, message, target);
  }
  return { data: data as T, file, at, fail };
}

/**
 * The error to show, of all ajv found: for `oneOf`/`anyOf` it first lists each branch's error;
 * the branch errors are deeper and say more than "must match a schema".
 * A bad mapping key comes first as its name's own error (a `pattern` at the mapping), then as
 * `propertyNames`: the latter knows the key, so it is the one shown, at the key.
 */
function pickError(errors: readonly ErrorObject[]): ErrorObject {
  const badKey = errors.find((e) => e.keyword === "propertyNames") ?? errors.find((e) => e.keyword === "additionalProperties");
  if (badKey !== undefined) return badKey;
  // a choice the schema names in words ("one string or a list of them") says more than its first branch's error
  const named = errors.find((e) => (e.keyword === "anyOf" || e.keyword === "oneOf") && (e.parentSchema as { hint?: string } | undefined)?.hint);
  if (named !== undefined) return named;
  return errors.find((e) => e.keyword !== "oneOf" && e.keyword !== "anyOf" && e.keyword !== "if") ?? errors[0];
}

/** A JSON pointer (`/rules/0/keys`) as a path. */
function pointerPath(pointer: string): (string | number)[] {
  if (pointer === "") return [];
  return pointer
    .slice(1)
    .split("/")
    .map((s) => s.replace(/~1/g, "/").replace(/~0/g, "~"))
    .map((s) => (/^(0|[1-9]\d*)$/.test(s) ? Number(s) : s));
}

const TYPE_WORDS: Record<string, string> = {
  object: "a mapping",
  array: "a list",
  string: "a string",
  integer: "an integer",
  number: "a number",
  boolean: "true or false",
  null: "empty",
};

/** A schema error in words, at the path of the node it is about. */
function describe(e: ErrorObject): { path: (string | number)[]; message: string; target?: "key" } {
  const path = pointerPath(e.instancePath);
  const p = e.params as Record<string, unknown>;
  const schema = e.parentSchema as { hint?: string; properties?: Record<string, unknown>; propertyNames?: { hint?: string } } | undefined;
  switch (e.keyword) {
    case "additionalProperties": {
      const allowed = Object.keys(schema?.properties ?? {});
      return {
        path: [...path, String(p.additionalProperty)],
        target: "key",
        message: `unknown key "${shown(String(p.additionalProperty))}"${allowed.length > 0 ? ` (allowed: ${allowed.join(", ")})` : ""}`,
      };
    }
    case "required":
      return { path, message: `\`${String(p.missingProperty)}\` is required` };
    case "type": {
      const types = String(p.type).split(",");
      return { path, message: `must be ${types.map((t) => TYPE_WORDS[t] ?? t).join(" or ")}` };
    }
    case "enum":
      return { path, message: `must be one of ${(p.allowedValues as unknown[]).map(String).join(", ")}` };
    case "const":
      return { path, message: `must be ${JSON.stringify(p.allowedValue)}` };
    case "pattern":
      return { path, message: schema?.hint ?? `must match ${String(p.pattern)}` };
    case "minItems":
      return { path, message: Number(p.limit) === 1 ? "must not be empty" : `must have at least ${String(p.limit)} items` };
    case "minLength":
      return { path, message: Number(p.limit) === 1 ? "must not be empty" : `must be at least ${String(p.limit)} characters` };
    case "minProperties":
      return { path, message: "must not be empty" };
    case "propertyNames": {
      // the names' schema may say in words what a key must be (`propertyNames: { pattern, hint }`)
      const hint = schema?.propertyNames?.hint;
      return { path: [...path, String(p.propertyName)], target: "key", message: `key "${shown(String(p.propertyName))}" ${hint ?? "is not valid"}` };
    }
    case "not":
      return { path, message: schema?.hint ?? "is not allowed here" };
    default:
      // ajv's own words ("must be >= 0", "must NOT have more than 64 characters") name limits, never values
      return { path, message: schema?.hint ?? e.message ?? "is not valid" };
  }
}

/** A key as it may be shown: at most 40 characters, no control characters. */
function shown(key: string): string {
  return key.replace(/[\u0000-\u001f\u007f-\u009f]/g, "?").slice(0, 40);
}

/** `rules[0].keys` for ["rules", 0, "keys"]. */
export function formatPath(path: YamlPath): string {
  let out = "";
  for (const s of path) out += typeof s === "number" ? `[${s}]` : out === "" ? shown(s) : `.${shown(s)}`;
  return out;
}

/**
 * Where `path` is: its value's node (or, for `"key"`, the key naming it), walking down to the
 * deepest node that exists.
 */
function positionOf(doc: Document, lc: LineCounter, path: YamlPath, target: "value" | "key"): YamlPosition {
  let node: unknown = doc.contents;
  let best: Node | undefined = node as Node | undefined;
  for (const [i, step] of path.entries()) {
    if (isMap(node)) {
      const pair = node.items.find((it) => keyOf(it.key) === String(step));
      if (pair === undefined) break;
      node = pair.value;
      const onKey = (target === "key" && i === path.length - 1) || !(pair.value as Node | null)?.range;
      best = (onKey ? pair.key : pair.value) as Node;
    } else if (isSeq(node) && typeof step === "number") {
      node = node.items[step];
      if (node === undefined) break;
      best = node as Node;
    } else break;
  }
  const offset = best?.range?.[0];
  return offset === undefined ? { line: 1, col: 1 } : lc.linePos(offset);
}

function keyOf(key: unknown): string {
  const v = (key as { value?: unknown } | null)?.value ?? key;
  return String(v);
}
