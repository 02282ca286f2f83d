/**
 * Finding the string literal around a secret and replacing the secret with a run-time read of
 * an environment variable, per language. Pure text in, text out.
 *
 * A secret that fills a whole literal becomes the read itself (`os.environ["VAR"]`,
 * `process.env.VAR`, `"$VAR"`); one inside a longer literal (`"Bearer sk-…"`) becomes a
 * concatenation (`"Bearer " + os.environ["VAR"]`), or an interpolation where the literal
 * interpolates (JS template strings, Python f-strings, shell double quotes). A secret outside
 * any single-line literal is not rewritten (the caller reports it).
 */

export type FixLanguage = "python" | "js" | "shell";

interface Literal {
  /** Offset of the first character of the literal (its prefix letters, e.g. `rb`, included). */
  readonly start: number;
  /** Offset just past the closing quote. */
  readonly end: number;
  readonly quote: string;
  /** Python string prefix, lowercased (`b`, `f`, `r`, `rb`…); "" otherwise. */
  readonly prefix: string;
}

/** The literal on the line of `text` that holds [start, end), or undefined (none, or it spans lines). */
function literalAround(text: string, start: number, end: number, lang: FixLanguage): Literal | undefined {
  const lineStart = text.lastIndexOf("\n", start - 1) + 1;
  const nl = text.indexOf("\n", end);
  const lineEnd = nl === -1 ? text.length : nl;
  const quotes = lang === "js" ? "'\"`" : "'\"";
  let open = -1;
  let quote = "";
  for (let i = lineStart; i < lineEnd; i++) {
    const c = text[i];
    if (open === -1) {
      if (lang !== "js" && c === "#" && (lang === "python" || i === lineStart || /\s/.test(text[i - 1]))) return undefined; // a comment: nothing to rewrite
      if (quotes.includes(c)) {
        if (lang === "python" && text.startsWith(c.repeat(3), i)) return undefined; // triple-quoted strings can span lines: leave them to a human
        open = i;
        quote = c;
      }
    } else if (c === "\\" && !(lang === "shell" && quote === "'")) i++;
    else if (c === quote) {
      if (open < start && i >= end) {
        let p = open;
        while (lang === "python" && p > lineStart && /[rbfuRBFU]/.test(text[p - 1])) p--;
        return { start: p, end: i + 1, quote, prefix: text.slice(p, open).toLowerCase() };
      }
      open = -1;
    }
  }
  return undefined;
}

function envRead(lang: FixLanguage, variable: string, quote: string): string {
  if (lang === "python") return `os.environ[${quote === "'" ? "'" : '"'}${variable}${quote === "'" ? "'" : '"'}]`;
  if (lang === "js") return `process.env.${variable}`;
  return `"$${variable}"`;
}

/**
 * Replaces text[start, end) (a secret) with a read of `variable`.
 * @returns the new text, or undefined when the secret is not inside a single-line literal.
 */
export function replaceWithEnvRead(text: string, start: number, end: number, variable: string, lang: FixLanguage): string | undefined {
  const lit = literalAround(text, start, end, lang);
  if (lang === "shell" && lit === undefined) {
    // an unquoted word: quote the read (word splitting and globbing must not touch a secret)
    return text.slice(0, start) + `"$${variable}"` + text.slice(end);
  }
  if (lit === undefined) return undefined;
  const q = lit.quote;
  const bodyStart = lit.start + lit.prefix.length + 1;
  const bodyEnd = lit.end - 1;
  const before = text.slice(bodyStart, start);
  const after = text.slice(end, bodyEnd);
  const open = text.slice(lit.start, bodyStart); // prefix + quote
  let replacement: string;
  if (lang === "shell") {
    if (before === "" && after === "") replacement = `"$${variable}"`;
    else if (q === '"') replacement = `"${before}\${${variable}}${after}"`;
    else replacement = `${before ? `'${before}'` : ""}"\${${variable}}"${after ? `'${after}'` : ""}`;
  } else if (lang === "js" && q === "`") {
    replacement = `\`${before}\${process.env.${variable}}${after}\``;
  } else if (lang === "python" && lit.prefix.includes("f")) {
    const inner = q === '"' ? `{os.environ['${variable}']}` : `{os.environ["${variable}"]}`;
    replacement = `${open}${before}${inner}${after}${q}`;
  } else {
    const read = envRead(lang, variable, q) + (lang === "python" && lit.prefix.includes("b") ? ".encode()" : "");
    const parts = [before ? `${open}${before}${q}` : "", read, after ? `${open}${after}${q}` : ""].filter(Boolean);
    replacement = parts.join(" + ");
  }
  return text.slice(0, lit.start) + replacement + text.slice(lit.end);
}

/** The identifier a literal starting at `start` is assigned to (`NAME = "…"`, `name: "…"`, `name="…"`, `["name"] = "…"`), if any. */
export function assignedName(text: string, start: number): string | undefined {
  const lineStart = text.lastIndexOf("\n", start - 1) + 1;
  let before = text.slice(lineStart, start);
  const q = before.search(/[rbfuRBFU]*["'`][^"'`]*$/); // back to the literal's opening quote
  if (q !== -1) before = before.slice(0, q);
  const m =
    /(?:\b([A-Za-z_][A-Za-z0-9_]*)|\[\s*["']([A-Za-z_][A-Za-z0-9_-]*)["']\s*\]|["']([A-Za-z_][A-Za-z0-9_-]*)["'])\s*(?::\s*[A-Za-z_][\w.<>|\s]*)?\s*(?::|=|:=|\?\?=)\s*$/.exec(
      before,
    );
  return m ? (m[1] ?? m[2] ?? m[3]) : undefined;
}

/** `openaiApiKey`, `openai-api-key`, `OPENAI_API_KEY` → `OPENAI_API_KEY`. */
export function toEnvName(identifier: string): string {
  const s = identifier
    .replace(/([a-z0-9])([A-Z])/g, "$1_$2")
    .replace(/[^A-Za-z0-9]+/g, "_")
    .replace(/^_+|_+$/g, "")
    .toUpperCase();
  return /^[A-Z_]/.test(s) ? s.slice(0, 100) : `SECRET_${s}`.slice(0, 100);
}
