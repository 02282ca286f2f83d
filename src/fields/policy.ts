/**
 * Field policies (YAML). Validated strictly: unknown keys, missing keys and bad values are
 * refused with the file and line (docs/fields.md has the full reference).
 *
 * @example
 * version: 1
 * key: fields/pii           # default key for rules that name none
 * recordId: id              # bound into randomized encryption (else the row number)
 * rules:
 *   - { field: email, action: deterministic }
 *   - { field: card, action: tokenize, keepLast: 4, version: 1 }
 *   - { field: "addresses[*].street", action: encrypt }
 */
import { readFileSync } from "node:fs";
import { LineCounter, parseDocument, isMap, isSeq, type Node } from "yaml";
import { yamlSyntaxError } from "../io/yaml.js";
import { KEY_NAME_PATTERN } from "../keys/names.js";
import { ALPHABETS, type AlphabetName } from "../crypto/ff1-tokens.js";
import { FieldError } from "./errors.js";
import { type CompiledPath, compilePath } from "./path.js";

export { ALPHABETS, type AlphabetName } from "../crypto/ff1-tokens.js";

export const ACTIONS = ["encrypt", "deterministic", "tokenize", "pseudonymize", "mask", "drop", "keep"] as const;
export type FieldAction = (typeof ACTIONS)[number];

export interface FieldRule {
  readonly field: CompiledPath;
  readonly action: FieldAction;
  readonly key?: string;
  /** tokenize/pseudonymize: pinned key version (else the primary at run time). */
  readonly version?: number;
  /** tokenize: the version `fields rewrap` re-tokenizes from. */
  readonly previousVersion?: number;
  readonly subject?: CompiledPath;
  readonly alphabet: AlphabetName;
  readonly keepFirst: number;
  readonly keepLast: number;
  readonly preserve?: "email-domain";
  /** pseudonymize: characters of base64url kept (8..43). */
  readonly length: number;
  readonly prefix: string;
  /** mask */
  readonly char: string;
  /** Line in the policy file (messages). */
  readonly line: number;
}

export interface FieldPolicy {
  readonly version: 1;
  readonly namespace: string;
  readonly recordId?: CompiledPath;
  readonly rules: readonly FieldRule[];
  readonly source: string;
}

const TOP = new Set(["version", "namespace", "recordId", "key", "rules"]);
const RULE = new Set([
  "field",
  "fields",
  "action",
  "key",
  "version",
  "previousVersion",
  "subject",
  "alphabet",
  "keepFirst",
  "keepLast",
  "preserve",
  "length",
  "prefix",
  "char",
]);
const CRYPTO: ReadonlySet<FieldAction> = new Set(["encrypt", "deterministic", "tokenize", "pseudonymize"]);

/** Loads and validates a policy file. @throws FieldError(INVALID_ARGUMENT) naming file:line (file:line:col for a YAML syntax error). */
export function loadFieldPolicy(file: string): FieldPolicy {
  let text: string;
  try {
    text = readFileSync(file, "utf8");
  } catch (e) {
    throw new FieldError("INVALID_ARGUMENT", `cannot read policy ${file}: ${(e as NodeJS.ErrnoException).code ?? "error"}`);
  }
  return parseFieldPolicy(text, file);
}

/** Parses policy YAML text; `source` names it in messages. */
export function parseFieldPolicy(text: string, source = "policy"): FieldPolicy {
  const lc = new LineCounter();
  const doc = parseDocument(text, { lineCounter: lc, prettyErrors: false });
  const lineOf = (node: unknown): number => {
    const r = (node as Node | undefined)?.range;
    return r ? lc.linePos(r[0]).line : 1;
  };
  // a declaration, not an arrow: a call to a declared `never` function narrows what follows it
  function fail(node: unknown, msg: string): never {
    throw new FieldError("INVALID_ARGUMENT", `${source}:${lineOf(node)}: ${msg}`);
  }
  if (doc.errors.length > 0) throw new FieldError("INVALID_ARGUMENT", yamlSyntaxError(doc.errors[0], lc, source));
  const root = doc.contents;
  if (!isMap(root)) return fail(root, "a policy is a mapping with `version` and `rules`");
  for (const item of root.items) {
    const k = String((item.key as { value?: unknown })?.value);
    if (!TOP.has(k)) fail(item.key, `unknown key "${k}" (allowed: ${[...TOP].join(", ")})`);
  }
  const get = (map: typeof root, key: string) => map.get(key, true) as Node | undefined;
  const plain = (n: Node | undefined): unknown => (n === undefined ? undefined : (n as { toJSON(): unknown }).toJSON());
  if (plain(get(root, "version")) !== 1) fail(get(root, "version") ?? root, "`version: 1` is required");
  const namespace = plain(get(root, "namespace")) ?? "default";
  if (typeof namespace !== "string" || !/^[a-z0-9][a-z0-9_-]{0,63}$/.test(namespace))
    fail(get(root, "namespace"), "namespace must be 1-64 characters of a-z 0-9 _ -");
  const defaultKey = plain(get(root, "key"));
  if (defaultKey !== undefined && (typeof defaultKey !== "string" || !KEY_NAME_PATTERN.test(defaultKey)))
    fail(get(root, "key"), "key must be a key name (a-z 0-9 . _ / -)");
  const path = (n: Node | undefined): CompiledPath => {
    const v = plain(n);
    if (typeof v !== "string") return fail(n, "a field path must be a string");
    try {
      return compilePath(v);
    } catch (e) {
      return fail(n, (e as Error).message);
    }
  };
  const recordIdNode = get(root, "recordId");
  const recordId = recordIdNode === undefined ? undefined : path(recordIdNode);
  if (recordId?.hasWildcard) fail(recordIdNode, "recordId cannot contain wildcards");
  const rulesNode = get(root, "rules");
  if (!isSeq(rulesNode) || rulesNode.items.length === 0) return fail(rulesNode ?? root, "`rules` must be a non-empty list");
  const rules: FieldRule[] = [];
  for (const r of rulesNode.items) {
    if (!isMap(r)) fail(r, "each rule is a mapping with `field` and `action`");
    const rule = r as typeof root;
    for (const item of rule.items) {
      const k = String((item.key as { value?: unknown })?.value);
      if (!RULE.has(k)) fail(item.key, `unknown rule key "${k}" (allowed: ${[...RULE].join(", ")})`);
    }
    const at = (k: string) => get(rule, k) ?? rule;
    const action = plain(get(rule, "action"));
    if (typeof action !== "string" || !(ACTIONS as readonly string[]).includes(action)) fail(at("action"), `action must be one of ${ACTIONS.join(", ")}`);
    const key = plain(get(rule, "key")) ?? defaultKey;
    if (CRYPTO.has(action as FieldAction) && (typeof key !== "string" || !KEY_NAME_PATTERN.test(key)))
      fail(at("key"), `action ${action} needs a key (rule \`key:\` or a top-level default \`key:\`)`);
    const int = (k: string, min: number, max: number, dflt: number | undefined): number | undefined => {
      const v = plain(get(rule, k));
      if (v === undefined) return dflt;
      if (typeof v !== "number" || !Number.isInteger(v) || v < min || v > max) return fail(at(k), `${k} must be an integer in ${min}..${max}`);
      return v;
    };
    const only = (k: string, actions: FieldAction[]) => {
      if (get(rule, k) !== undefined && !actions.includes(action as FieldAction)) fail(at(k), `${k} applies only to ${actions.join("/")}`);
    };
    only("version", ["tokenize", "pseudonymize"]);
    only("previousVersion", ["tokenize"]);
    only("subject", ["encrypt", "deterministic"]);
    only("alphabet", ["tokenize"]);
    only("keepFirst", ["tokenize", "mask"]);
    only("keepLast", ["tokenize", "mask"]);
    only("preserve", ["tokenize", "mask"]);
    only("length", ["pseudonymize"]);
    only("prefix", ["pseudonymize"]);
    only("char", ["mask"]);
    const alphabet = plain(get(rule, "alphabet")) ?? "digits";
    if (typeof alphabet !== "string" || !Object.hasOwn(ALPHABETS, alphabet))
      fail(at("alphabet"), `alphabet must be one of ${Object.keys(ALPHABETS).join(", ")}`);
    const preserve = plain(get(rule, "preserve"));
    if (preserve !== undefined && preserve !== "email-domain") fail(at("preserve"), "preserve must be email-domain");
    const prefix = plain(get(rule, "prefix")) ?? "";
    if (typeof prefix !== "string" || prefix.length > 16) fail(at("prefix"), "prefix must be a string of at most 16 characters");
    const char = plain(get(rule, "char")) ?? "*";
    if (typeof char !== "string" || [...char].length !== 1) fail(at("char"), "char must be one character");
    const fieldsNode = get(rule, "fields");
    const fieldNodes =
      fieldsNode !== undefined
        ? isSeq(fieldsNode)
          ? (fieldsNode.items as Node[])
          : [fail(fieldsNode, "fields must be a list")]
        : [get(rule, "field") ?? fail(rule, "a rule needs `field` (or `fields`)")];
    if (fieldsNode !== undefined && get(rule, "field") !== undefined) fail(at("field"), "use `field` or `fields`, not both");
    const subjectNode = get(rule, "subject");
    const subject = subjectNode === undefined ? undefined : path(subjectNode);
    if (subject?.hasWildcard) fail(subjectNode, "subject cannot contain wildcards");
    const version = int("version", 1, 0xffffffff, undefined);
    const previousVersion = int("previousVersion", 1, 0xffffffff, undefined);
    for (const fn of fieldNodes) {
      rules.push({
        field: path(fn),
        action: action as FieldAction,
        ...(typeof key === "string" && action !== "mask" && action !== "drop" && action !== "keep" ? { key } : {}),
        ...(version !== undefined ? { version } : {}),
        ...(previousVersion !== undefined ? { previousVersion } : {}),
        ...(subject ? { subject } : {}),
        alphabet: alphabet as AlphabetName,
        keepFirst: int("keepFirst", 0, 64, 0)!,
        keepLast: int("keepLast", 0, 64, 0)!,
        ...(preserve ? { preserve: "email-domain" as const } : {}),
        length: int("length", 8, 43, 22)!,
        prefix,
        char,
        line: lineOf(fn),
      });
    }
  }
  // Anchors (record id, subject ids) are read in plaintext on apply and revealed first on reveal,
  // so they must be kept or protected reversibly and without a subject key of their own.
  const anchors = [...(recordId ? [{ p: recordId, what: "recordId" }] : []), ...rules.flatMap((r) => (r.subject ? [{ p: r.subject, what: "subject" }] : []))];
  for (const a of anchors) {
    const rule = rules.find((r) => (r.field.hasWildcard ? r.field.flatGlob.test(a.p.source) : r.field.source === a.p.source));
    if (rule && !["keep", "deterministic", "tokenize"].includes(rule.action)) {
      throw new FieldError(
        "INVALID_ARGUMENT",
        `${source}:${rule.line}: the ${a.what} field ${a.p.source} must be keep, deterministic or tokenize (it is read to bind or key other fields)`,
      );
    }
    if (rule?.subject) throw new FieldError("INVALID_ARGUMENT", `${source}:${rule.line}: the ${a.what} field ${a.p.source} cannot itself use a subject key`);
  }
  return { version: 1, namespace, ...(recordId ? { recordId } : {}), rules, source };
}
