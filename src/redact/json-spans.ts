/** Locating string values (not keys) in one line of valid JSON, without re-serialising it. */

/** [start, end) of the contents (between the quotes) of every string value in `line`, in order. */
export function jsonValueStringSpans(line: string): Array<[number, number]> {
  const spans: Array<[number, number]> = [];
  let i = line.indexOf('"');
  while (i >= 0) {
    let k = line.indexOf('"', i + 1);
    while (k >= 0) {
      let bs = 0;
      while (line.charCodeAt(k - 1 - bs) === 92 /* \ */) bs++;
      if (bs % 2 === 0) break;
      k = line.indexOf('"', k + 1);
    }
    if (k < 0) break;
    let n = k + 1;
    while (n < line.length && (line[n] === " " || line[n] === "\t" || line[n] === "\r" || line[n] === "\n")) n++;
    if (line[n] !== ":") spans.push([i + 1, k]);
    i = line.indexOf('"', k + 1);
  }
  return spans;
}

/** True if the line is one JSON object or array (the cheap test first, then a real parse). */
export function isJsonLine(line: string): boolean {
  let i = 0;
  while (i < line.length && (line[i] === " " || line[i] === "\t")) i++;
  const c = line[i];
  if (c !== "{" && c !== "[") return false;
  try {
    JSON.parse(line);
    return true;
  } catch {
    return false;
  }
}
