/**
 * Unified diffs (the `diff -u` / `git diff` text format) of two texts, line by line, with the
 * Myers O(ND) algorithm ("An O(ND) Difference Algorithm and Its Variations", 1986) after the
 * common prefix and suffix are trimmed; three lines of context.
 */

type Op = { readonly kind: " " | "-" | "+"; readonly line: string };

function myers(a: readonly string[], b: readonly string[]): Op[] {
  const n = a.length;
  const m = b.length;
  const max = n + m;
  const v = new Map<number, number>([[1, 0]]);
  const trace: Map<number, number>[] = [];
  outer: for (let d = 0; d <= max; d++) {
    trace.push(new Map(v));
    for (let k = -d; k <= d; k += 2) {
      let x = k === -d || (k !== d && (v.get(k - 1) ?? -1) < (v.get(k + 1) ?? -1)) ? (v.get(k + 1) ?? 0) : (v.get(k - 1) ?? 0) + 1;
      let y = x - k;
      while (x < n && y < m && a[x] === b[y]) {
        x++;
        y++;
      }
      v.set(k, x);
      if (x >= n && y >= m) break outer;
    }
  }
  const ops: Op[] = [];
  let x = n;
  let y = m;
  for (let d = trace.length - 1; d >= 0; d--) {
    const vd = trace[d];
    const k = x - y;
    const prevK = k === -d || (k !== d && (vd.get(k - 1) ?? -1) < (vd.get(k + 1) ?? -1)) ? k + 1 : k - 1;
    const prevX = vd.get(prevK) ?? 0;
    const prevY = prevX - prevK;
    while (x > prevX && y > prevY) {
      ops.push({ kind: " ", line: a[--x] });
      y--;
    }
    if (d > 0) {
      if (x === prevX) ops.push({ kind: "+", line: b[--y] });
      else ops.push({ kind: "-", line: a[--x] });
    }
  }
  return ops.reverse();
}

const split = (t: string) => (t === "" ? [] : t.endsWith("\n") ? t.slice(0, -1).split("\n") : t.split("\n"));

/** `--- a/<path>` / `+++ b/<path>` and hunks; "" when the texts are equal. */
export function unifiedDiff(path: string, before: string, after: string, context = 3): string {
  if (before === after) return "";
  const a = split(before);
  const b = split(after);
  let pre = 0;
  while (pre < a.length && pre < b.length && a[pre] === b[pre]) pre++;
  let suf = 0;
  while (suf < a.length - pre && suf < b.length - pre && a[a.length - 1 - suf] === b[b.length - 1 - suf]) suf++;
  const ops: Op[] = [
    ...a.slice(0, pre).map((line) => ({ kind: " " as const, line })),
    ...myers(a.slice(pre, a.length - suf), b.slice(pre, b.length - suf)),
    ...a.slice(a.length - suf).map((line) => ({ kind: " " as const, line })),
  ];
  const out = [`--- a/${path}`, `+++ b/${path}`];
  let i = 0;
  let aLine = 1;
  let bLine = 1;
  while (i < ops.length) {
    if (ops[i].kind === " ") {
      i++;
      aLine++;
      bLine++;
      continue;
    }
    // a hunk: back up `context` lines, then run until `2*context` unchanged lines in a row
    const back = Math.min(context, i, aLine - 1);
    let j = i - back;
    let aStart = aLine - back;
    let bStart = bLine - back;
    const lines: string[] = [];
    let aCount = 0;
    let bCount = 0;
    let quiet = 0;
    for (; j < ops.length; j++) {
      const op = ops[j];
      if (op.kind === " ") {
        quiet++;
        if (quiet > 2 * context) break;
      } else quiet = 0;
      lines.push(op.kind + op.line);
      if (op.kind !== "+") aCount++;
      if (op.kind !== "-") bCount++;
    }
    // drop trailing context beyond `context`
    let trailing = 0;
    for (let t = lines.length - 1; t >= 0 && lines[t].startsWith(" "); t--) trailing++;
    const drop = Math.max(0, trailing - context);
    lines.splice(lines.length - drop, drop);
    aCount -= drop;
    bCount -= drop;
    out.push(`@@ -${aCount === 0 ? aStart - 1 : aStart},${aCount} +${bCount === 0 ? bStart - 1 : bStart},${bCount} @@`, ...lines);
    for (let t = i - back; t < j - drop; t++) {
      const k = ops[t].kind;
      if (k !== "+") aStart++;
      if (k !== "-") bStart++;
    }
    aLine = aStart;
    bLine = bStart;
    i = j - drop;
  }
  return out.join("\n") + "\n";
}
