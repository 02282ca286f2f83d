/**
 * Bytes of a JSON-lines response → one string per line (each with its "\n"). UTF-8 is decoded
 * across chunk boundaries (a character split between two TCP reads stays one character) and
 * invalid UTF-8 is an error, not U+FFFD silently written into an audit export.
 */
export async function* splitLines(chunks: AsyncIterable<Uint8Array>): AsyncGenerator<string> {
  const decoder = new TextDecoder("utf-8", { fatal: true });
  let rest = "";
  for await (const chunk of chunks) {
    rest += decoder.decode(chunk, { stream: true });
    let nl: number;
    while ((nl = rest.indexOf("\n")) >= 0) {
      yield rest.slice(0, nl + 1);
      rest = rest.slice(nl + 1);
    }
  }
  rest += decoder.decode();
  if (rest !== "") throw new RangeError("the stream ended inside a line");
}
