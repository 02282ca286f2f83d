/**
 * The Redactor: detection plus operators over lines of text.
 *
 * A line that is one valid JSON object/array is redacted field-aware: findings count only
 * inside string values; keys, numbers, booleans and layout are kept byte for byte (a card
 * number logged as a JSON number is left alone: only stringly-typed values are redacted).
 * Detection runs over the whole line, so `"password":"…"` still lends its key as context.
 * Any other line is plain text. A private-key block split over several lines (PEM in plain
 * text logs) is redacted from its BEGIN line and the lines up to its END line are dropped.
 */
import { allowPredicate, type AllowList } from "./allow-list.js";
import { customDetector, type CustomDetectorConfig } from "./custom.js";
import { detectAll } from "./detect.js";
import { builtinDetectors } from "./detectors/index.js";
import { isJsonLine, jsonValueStringSpans } from "./json-spans.js";
import { type EncryptTarget, type Operator, OPERATORS, checkHashKey, encryptOp, hashOp, maskOp, redactOp } from "./operators.js";
import { Tokenizer, canonicalDetector, tokenCore, type TokenizeTarget } from "./tokenize.js";
import type { Detector, Finding } from "./types.js";
import { UsageError } from "../errors.js";
import { FieldError } from "../errors.js";

export interface RedactOptions {
  /** Replaces the built-in list. */
  readonly detectors?: readonly Detector[];
  /** Added to the detectors. */
  readonly customDetectors?: readonly CustomDetectorConfig[];
  /** Detector ids to switch off. */
  readonly disable?: readonly string[];
  readonly minConfidence?: number;
  /** See through JSON escapes, URL encoding, base64 (default true). */
  readonly encodings?: boolean;
  readonly allow?: AllowList | readonly AllowList[];
  /** Operator per detector id, with `default` for the rest (default `redact`). */
  readonly operators?: Readonly<Record<string, Operator>>;
  /** Key for the hash operator (32+ bytes). */
  readonly hashKey?: Uint8Array;
  /** Hex characters of the pseudonym (default 8, 4..64). */
  readonly hashLength?: number;
  /** Key and keyring for the encrypt operator. */
  readonly encrypt?: EncryptTarget;
  /** Key and keyring for the tokenize operator (key version: the primary at first use). */
  readonly tokenize?: TokenizeTarget;
  /** Field-aware JSON lines (default true). */
  readonly json?: boolean;
}

export interface RedactStats {
  lines: number;
  jsonLines: number;
  redacted: number;
  byDetector: Record<string, number>;
  /** Present once the tokenize operator has run: tokens written, values masked instead (too short for FF1's 10^6 domain, or letters outside 0-9A-Za-z), and the key version used. */
  tokenize?: { tokenized: number; maskedInstead: number; byDetectorMasked: Record<string, number>; keyVersion?: number };
}

interface Planned {
  readonly finding: Finding;
  readonly json: boolean;
}

const BEGIN_LINE = /-----BEGIN ((?:RSA |EC |DSA |ENCRYPTED |OPENSSH |PGP )?PRIVATE KEY(?: BLOCK)?)-----/;

export class Redactor {
  readonly stats: RedactStats = { lines: 0, jsonLines: 0, redacted: 0, byDetector: {} };
  private readonly detectors: readonly Detector[];
  private readonly allow: ((f: Finding, text: string) => boolean) | undefined;
  private readonly ops: Readonly<Record<string, Operator>>;
  private readonly fallback: Operator;
  private readonly hashLength: number;
  private readonly tokenizer: Tokenizer | undefined;
  /** END marker of a private-key block still open from an earlier line. */
  private openBlock: string | null = null;

  constructor(private readonly options: RedactOptions = {}) {
    const off = new Set(options.disable ?? []);
    const custom = (options.customDetectors ?? []).map(customDetector);
    this.detectors = [...(options.detectors ?? builtinDetectors()), ...custom].filter((d) => !off.has(d.id));
    const lists = options.allow === undefined ? [] : Array.isArray(options.allow) ? (options.allow as AllowList[]) : [options.allow as AllowList];
    const preds = lists.map(allowPredicate);
    this.allow = preds.length > 0 ? (f, t) => preds.some((p) => p(f, t)) : undefined;
    const ops: Record<string, Operator> = {};
    for (const [id, op] of Object.entries(options.operators ?? {})) {
      if (!OPERATORS.includes(op)) throw new UsageError("INVALID_ARGUMENT", `operator for ${id} must be one of ${OPERATORS.join(", ")} (got "${op}")`);
      ops[canonicalDetector(id)] = op;
    }
    this.ops = ops;
    this.fallback = this.ops.default ?? "redact";
    this.hashLength = options.hashLength ?? 8;
    if (!Number.isInteger(this.hashLength) || this.hashLength < 4 || this.hashLength > 64) throw new RangeError("hashLength must be 4..64");
    const used = new Set(Object.values(this.ops));
    if (used.has("hash")) checkHashKey(options.hashKey);
    if (used.has("encrypt") && !options.encrypt) throw new UsageError("INVALID_ARGUMENT", "the encrypt operator needs a keyring and a key name");
    if (used.has("tokenize") && !options.tokenize)
      throw new UsageError("INVALID_ARGUMENT", "the tokenize operator needs a keyring and a key name (--tokenize-key NAME or tokenizeKey in the policy)");
    this.tokenizer = used.has("tokenize") && options.tokenize ? new Tokenizer(options.tokenize) : undefined;
  }

  /** True when some operator is `encrypt` or `tokenize` (keystore calls): use the async methods. */
  get isAsync(): boolean {
    return Object.values(this.ops).some((op) => op === "encrypt" || op === "tokenize");
  }

  /** Findings in one line, as the redaction would treat them. */
  findings(line: string): Finding[] {
    return this.plan(line).map((p) => p.finding);
  }

  private operatorFor(f: Finding): Operator {
    return this.ops[f.detector] ?? this.fallback;
  }

  /**
   * Findings in `text` (one or more whole lines) that the redaction acts on. On a JSON line only
   * findings inside string values count; a finding that crosses lines is treated as text.
   */
  private plan(text: string): Planned[] {
    const found = detectAll(text, this.detectors, {
      ...(this.options.minConfidence === undefined ? {} : { minConfidence: this.options.minConfidence }),
      ...(this.options.encodings === undefined ? {} : { encodings: this.options.encodings }),
      ...(this.allow ? { allow: this.allow } : {}),
    });
    if (found.length === 0 || this.options.json === false) return found.map((finding) => ({ finding, json: false }));
    const out: Planned[] = [];
    let lineStart = -1;
    let lineEnd = -1;
    let spans: Array<[number, number]> | null = null;
    let s = 0;
    for (const f of found) {
      if (f.start >= lineEnd + 1 || lineStart < 0) {
        lineStart = text.lastIndexOf("\n", f.start - 1) + 1;
        lineEnd = text.indexOf("\n", f.start);
        if (lineEnd < 0) lineEnd = text.length;
        const line = text.slice(lineStart, lineEnd);
        spans = isJsonLine(line) ? jsonValueStringSpans(line).map(([a, b]) => [a + lineStart, b + lineStart] as [number, number]) : null;
        if (spans) this.stats.jsonLines++;
        s = 0;
      }
      if (spans === null || f.end > lineEnd) {
        out.push({ finding: f, json: false });
        continue;
      }
      while (s < spans.length && spans[s][1] < f.end) s++;
      const span = spans[s];
      if (span && span[0] <= f.start && f.end <= span[1]) out.push({ finding: f, json: true });
    }
    return out;
  }

  private value(line: string, p: Planned): string {
    const raw = line.slice(p.finding.start, p.finding.end);
    if (!p.json || !raw.includes("\\")) return raw;
    try {
      return JSON.parse(`"${raw}"`) as string;
    } catch {
      return raw;
    }
  }

  private replaceSync(line: string, p: Planned): string {
    const f = p.finding;
    const op = this.operatorFor(f);
    const value = this.value(line, p);
    let out: string;
    if (op === "redact") out = redactOp(f);
    else if (op === "mask") out = maskOp(f, value);
    else if (op === "hash") out = hashOp(f, value, this.options.hashKey!, this.hashLength);
    else throw new UsageError("INVALID_ARGUMENT", `the ${op} operator is asynchronous: use redactLineAsync or createRedactStream`);
    return p.json ? JSON.stringify(out).slice(1, -1) : out;
  }

  private async replaceAsync(line: string, p: Planned): Promise<string> {
    const op = this.operatorFor(p.finding);
    if (op === "tokenize") return this.tokenize(line, p);
    if (op !== "encrypt") return this.replaceSync(line, p);
    return encryptOp(p.finding, this.value(line, p), this.options.encrypt!); // base64url: JSON-safe as is
  }

  private async tokenize(line: string, p: Planned): Promise<string> {
    const f = p.finding;
    const value = this.value(line, p);
    const ff1s = await this.tokenizer!.ff1s(f.detector);
    const st = (this.stats.tokenize ??= { tokenized: 0, maskedInstead: 0, byDetectorMasked: {} });
    if (this.tokenizer!.version !== undefined) st.keyVersion = this.tokenizer!.version;
    let out: string;
    try {
      out = tokenCore(ff1s, f.detector, value, true);
      st.tokenized++;
    } catch (e) {
      if (!(e instanceof FieldError)) throw e;
      out = maskOp(f, value); // too short for FF1's 10^6 domain, or letters outside 0-9A-Za-z
      st.maskedInstead++;
      st.byDetectorMasked[f.detector] = (st.byDetectorMasked[f.detector] ?? 0) + 1;
    }
    return p.json ? JSON.stringify(out).slice(1, -1) : out;
  }

  /** Inside a private-key block left open by an earlier chunk: null = all of `text` is in it, else what follows its END marker. */
  private continueBlock(text: string): string | null {
    if (this.openBlock === null) return text;
    const at = text.indexOf(this.openBlock);
    if (at < 0) return null;
    const rest = text.slice(at + this.openBlock.length);
    this.openBlock = null;
    return rest;
  }

  private noteBlock(text: string, plan: readonly Planned[]): void {
    const last = plan[plan.length - 1]?.finding;
    if (last?.detector !== "private-key" || last.end !== text.length || text.includes("-----END ", last.start)) return;
    const m = BEGIN_LINE.exec(text.slice(last.start));
    if (m) this.openBlock = `-----END ${m[1]}-----`;
  }

  private count(text: string, plan: readonly Planned[]): void {
    let lines = 1;
    for (let i = text.indexOf("\n"); i >= 0; i = text.indexOf("\n", i + 1)) lines++;
    this.stats.lines += lines;
    for (const p of plan) {
      this.stats.redacted++;
      this.stats.byDetector[p.finding.detector] = (this.stats.byDetector[p.finding.detector] ?? 0) + 1;
    }
  }

  /**
   * Redacts whole lines of text (one line, or many joined by "\n", without a trailing newline).
   * Detection runs once over the whole chunk, which is much faster than line by line.
   * Returns null when all of it lies inside a private-key block opened by an earlier call.
   * @throws UsageError if an operator is `encrypt` (use redactChunkAsync).
   */
  redactChunk(input: string): string | null {
    const step = this.begin(input);
    return "done" in step
      ? step.done
      : this.splice(
          step.text,
          step.plan,
          step.plan.map((p) => this.replaceSync(step.text, p)),
        );
  }

  /** redactChunk with every operator, including `encrypt`. */
  async redactChunkAsync(input: string): Promise<string | null> {
    const step = this.begin(input);
    if ("done" in step) return step.done;
    const replacements: string[] = [];
    for (const p of step.plan) replacements.push(await this.replaceAsync(step.text, p));
    return this.splice(step.text, step.plan, replacements);
  }

  /** The shared first half of redactChunk(Async): the chunk's findings, or its final answer when nothing is to replace. */
  private begin(input: string): { done: string | null } | { text: string; plan: Planned[] } {
    const text = this.continueBlock(input);
    if (text === null) return (this.count(input, []), { done: null });
    const plan = this.plan(text);
    this.count(text, plan);
    return plan.length === 0 ? { done: text } : { text, plan };
  }

  /** Puts each planned finding's replacement in its place. */
  private splice(text: string, plan: readonly Planned[], replacements: readonly string[]): string {
    let out = "";
    let at = 0;
    plan.forEach((p, i) => {
      out += text.slice(at, p.finding.start) + replacements[i];
      at = p.finding.end;
    });
    this.noteBlock(text, plan);
    return out + text.slice(at);
  }

  /** One line (no newline). Null when the line is dropped (inside a multi-line private-key block). */
  redactLine(line: string): string | null {
    return this.redactChunk(line);
  }

  async redactLineAsync(line: string): Promise<string | null> {
    return this.redactChunkAsync(line);
  }

  /**
   * Redacts a whole text (newlines kept; a multi-line private-key block becomes one replacement).
   * @example new Redactor().redactText("mail bob@example.org") // "mail [EMAIL]"
   */
  redactText(text: string): string {
    return this.redactChunk(text) ?? "";
  }

  async redactTextAsync(text: string): Promise<string> {
    return (await this.redactChunkAsync(text)) ?? "";
  }
}
