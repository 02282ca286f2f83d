/**
 * YAML text to plain data with one-line errors: `file:LINE:COL: YAML: <first line of the
 * parser's message>`. The yaml package's own messages span several lines with a source
 * excerpt, which would break the CLI's one-line error rule (and could echo a secret).
 */
import { LineCounter, type YAMLError, parseDocument } from "yaml";
import { type ErrorCode, PipesealError } from "../errors.js";

/** @throws PipesealError(`code`) naming the file, line and column of the first syntax error. */
export function parseYaml(text: string, file: string, code: ErrorCode = "INVALID_ARGUMENT"): unknown {
  const lc = new LineCounter();
  const doc = parseDocument(text, { lineCounter: lc, prettyErrors: false, uniqueKeys: true });
  const e = doc.errors[0];
  if (e !== undefined) throw new PipesealError(code, yamlSyntaxError(e, lc, file));
  return doc.toJS();
}

/**
 * The one-line text of a syntax error, `file:LINE:COL: YAML: <message>`, for readers that keep
 * the document's nodes (a fields policy, monitor.yaml) and so parse it themselves.
 */
export function yamlSyntaxError(e: YAMLError, lc: LineCounter, file: string): string {
  const pos = yamlErrorPosition(e, lc);
  return `${file}:${pos.line}:${pos.col}: YAML: ${yamlMessage(e)}`;
}

/** Where a parser error is: its own position when it has one, else from the line counter. */
export function yamlErrorPosition(e: YAMLError, lc: LineCounter): { line: number; col: number } {
  return e.linePos?.[0] ?? lc.linePos(e.pos[0]);
}

/**
 * The first line of a yaml parser message, without the source text it may quote
 * (`Unexpected scalar token in YAML stream: "…"`): a wrong file given as a policy could be
 * a secrets file, and its content must not reach a terminal or a log.
 */
export function yamlMessage(e: { message: string }): string {
  return e.message
    .split("\n")[0]
    .replace(/:\s*".*$/, "")
    .replace(/[.:]?\s*$/, "");
}
