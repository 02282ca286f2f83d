/** Minimal globs for `glob` stores: `**` (any folders), `*`, `?`, `{a,b}`; `/`-separated. */

/** Splits `/abs/data/**\/*.csv` into the folder to walk (`/abs/data`) and a matcher for paths relative to it. */
export function compileGlob(pattern: string): { base: string; match: (rel: string) => boolean } {
  const parts = pattern.split("/");
  const firstGlob = parts.findIndex((p) => /[*?{[]/.test(p));
  if (firstGlob === -1) return { base: pattern, match: (rel) => rel === "" || rel === "." };
  const base = parts.slice(0, firstGlob).join("/") || "/";
  const re = new RegExp("^" + toRegex(parts.slice(firstGlob).join("/")) + "$");
  return { base, match: (rel) => re.test(rel) };
}

function toRegex(glob: string): string {
  let out = "";
  for (let i = 0; i < glob.length; i++) {
    const c = glob[i];
    if (c === "*" && glob[i + 1] === "*") {
      const slash = glob[i + 2] === "/";
      out += slash ? "(?:[^/]*/)*" : ".*";
      i += slash ? 2 : 1;
    } else if (c === "*") out += "[^/]*";
    else if (c === "?") out += "[^/]";
    else if (c === "{") {
      const end = glob.indexOf("}", i);
      if (end === -1) out += "\\{";
      else {
        out +=
          "(?:" +
          glob
            .slice(i + 1, end)
            .split(",")
            .map(toRegex)
            .join("|") +
          ")";
        i = end;
      }
    } else out += c.replace(/[.+^$()|[\]\\]/g, "\\$&");
  }
  return out;
}
