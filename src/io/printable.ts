/**
 * Terminal-safe text for human-readable output. Strings a user, a file or a client controls
 * (object paths, file names, principals, key names, context values, finding messages) are
 * printed through {@link printable}, so none can move the cursor, recolour or clear the
 * screen, start a new line, or reorder what follows: a file named
 * `x\n5  2026-…  alice  decrypt … ok` must not forge an audit line on the terminal.
 *
 * Escaped: C0 controls (U+0000–U+001F, so also newline, CR and tab), DEL, C1 controls
 * (U+0080–U+009F; U+009B is a one-byte CSI on some terminals), the bidi overrides and isolates
 * (U+202A–U+202E, U+2066–U+2069, "Trojan Source", CVE-2021-42574) and marks (U+200E, U+200F,
 * U+061C), the line and paragraph separators (U+2028, U+2029), and the backslash itself, so the
 * escaped form reads back unambiguously: `\n`, `\r`, `\t`, `\\`, `\xHH` below U+0100, `\uHHHH`
 * above. Everything else (other Unicode text) is printed as is. JSON output needs none of this:
 * JSON.stringify escapes C0 controls, and a JSON reader is not a terminal.
 */

const UNSAFE = /[\u0000-\u001f\u007f-\u009f\u061c\u200e\u200f\u2028\u2029\u202a-\u202e\u2066-\u2069\\]/g;

const NAMED: Readonly<Record<string, string>> = { "\n": "\\n", "\r": "\\r", "\t": "\\t", "\\": "\\\\" };

function escapeOne(c: string): string {
  const named = NAMED[c];
  if (named !== undefined) return named;
  const code = c.charCodeAt(0);
  return code < 0x100 ? `\\x${code.toString(16).padStart(2, "0")}` : `\\u${code.toString(16).padStart(4, "0")}`;
}

/**
 * `text` with every control, bidi and separator character escaped (see the module comment);
 * null and undefined print as "-". Use it on each user-controlled piece of a human-readable
 * line, not on the whole output (the output's own newlines are not the user's).
 * @example process.stdout.write(`${r.seq}  ${printable(r.objectPath)}\n`);
 */
export function printable(text: unknown): string {
  if (text === null || text === undefined) return "-";
  // callers pass primitives (sizes, versions); anything else prints as its JSON, never as "[object Object]"
  const s =
    typeof text === "string"
      ? text
      : typeof text === "number" || typeof text === "boolean" || typeof text === "bigint"
        ? String(text)
        : (JSON.stringify(text) ?? "-");
  UNSAFE.lastIndex = 0;
  return UNSAFE.test(s) ? s.replace(UNSAFE, escapeOne) : s;
}

// the same set but for newline, tab and the backslash: the output's own layout and escapes
const UNSAFE_IN_LINES = /[\u0000-\u0008\u000b-\u001f\u007f-\u009f\u061c\u200e\u200f\u2028\u2029\u202a-\u202e\u2066-\u2069]/g;

/**
 * A whole human-readable output made safe as a last line of defence: every character
 * {@link printable} escapes except newline, tab and backslash (the output's own line breaks,
 * columns and already-escaped fields). It cannot tell a user's newline from the output's, so
 * each user-controlled field must still go through {@link printable}; this catches what a
 * command forgot (an ANSI sequence, a bidi override).
 */
export function printableLines(text: string): string {
  UNSAFE_IN_LINES.lastIndex = 0;
  return UNSAFE_IN_LINES.test(text) ? text.replace(UNSAFE_IN_LINES, escapeOne) : text;
}
