/**
 * A streaming splitter for a top-level JSON array: yields each element's text without
 * holding the whole document (strings and nesting are tracked; each element is parsed alone).
 */
import { FieldError } from "../errors.js";

export async function* jsonArrayElements(chunks: AsyncIterable<string | Buffer>): AsyncGenerator<string> {
  let state: "before" | "between" | "in" | "after" = "before";
  let depth = 0;
  let inString = false;
  let escape = false;
  let buf = "";
  let n = 0;
  const bad = (why: string) => new FieldError("INVALID_ARGUMENT", `not a JSON array of records: ${why}`, { row: n + 1 });
  for await (const chunk of chunks) {
    const text = typeof chunk === "string" ? chunk : chunk.toString("utf8");
    let start = 0;
    for (let i = 0; i < text.length; i++) {
      const c = text.charCodeAt(i);
      if (state === "in") {
        if (inString) {
          if (escape) escape = false;
          else if (c === 0x5c) escape = true;
          else if (c === 0x22) inString = false;
          continue;
        }
        if (c === 0x22) inString = true;
        else if (c === 0x7b || c === 0x5b) depth++;
        else if (c === 0x7d || c === 0x5d) {
          if (depth === 0) {
            // `]` closing the array right after an element
            if (c !== 0x5d) throw bad("unbalanced }");
            yield buf + text.slice(start, i);
            n++;
            buf = "";
            state = "after";
            continue;
          }
          depth--;
        } else if (c === 0x2c && depth === 0) {
          yield buf + text.slice(start, i);
          n++;
          buf = "";
          state = "between";
        }
        continue;
      }
      if (c === 0x20 || c === 0x0a || c === 0x0d || c === 0x09 || c === 0xfeff) continue;
      if (state === "before") {
        if (c !== 0x5b) throw bad("the document does not start with [");
        state = "between";
      } else if (state === "between") {
        if (c === 0x5d && n === 0) state = "after";
        else {
          state = "in";
          start = i;
          i--; // re-read this character inside the element
        }
      } else throw bad("text after the closing ]");
    }
    if (state === "in") buf += text.slice(start);
  }
  if ((state as string) !== "after") throw bad("the array is not closed");
}
