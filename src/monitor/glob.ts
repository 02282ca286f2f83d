/**
 * Globs for monitor.yaml (honeytoken keys and objects, suppressions): `*` matches any run of
 * characters, `/` included (a key or object glob names a family, at any depth), `?` one
 * character; everything else is literal. Whole-string match.
 */
export function globToRegExp(glob: string): RegExp {
  let re = "";
  for (const c of glob) re += c === "*" ? ".*" : c === "?" ? "." : c.replace(/[.+^${}()|[\]\\]/g, "\\$&");
  return new RegExp(`^${re}$`, "s");
}

/**
 * A glob without `?` is matched by its literal parts in order (prefix, middles by leftmost
 * indexOf, suffix): the honeytoken object glob runs on every record, and this is several
 * times faster than the regular expression it is equivalent to (test/monitor/glob.test.ts).
 */
function partsMatcher(glob: string): (s: string) => boolean {
  const parts = glob.split("*");
  if (parts.length === 1) return (s) => s === glob;
  const first = parts[0];
  const last = parts[parts.length - 1];
  const middle = parts.slice(1, -1).filter((p) => p !== "");
  return (s) => {
    if (!s.startsWith(first)) return false;
    let pos = first.length;
    for (const m of middle) {
      const at = s.indexOf(m, pos);
      if (at === -1) return false;
      pos = at + m.length;
    }
    return s.length - last.length >= pos && s.endsWith(last);
  };
}

export function globMatcher(globs: readonly string[]): (s: string) => boolean {
  if (globs.length === 0) return () => false;
  const tests = globs.map((g) => {
    if (g.includes("?")) {
      const re = globToRegExp(g);
      return (s: string) => re.test(s);
    }
    return partsMatcher(g);
  });
  return (s) => tests.some((t) => t(s));
}
