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

export function globMatcher(globs: readonly string[]): (s: string) => boolean {
  if (globs.length === 0) return () => false;
  const res = globs.map(globToRegExp);
  return (s) => res.some((r) => r.test(s));
}
