/**
 * Names for moved secrets: the environment variable the code now reads, and the store name
 * (`<prefix>/<variable-in-kebab-case>`, e.g. `repo/openai-api-key`). One value gets one secret
 * and one variable, wherever it appears; a name already taken (in the store, or by another
 * value) gets the file's stem, then a counter.
 */
import { toEnvName } from "./literal.js";

export interface Naming {
  /** The variable and secret for `value`, found at `file` (relative path) and wanting `wanted` as variable. */
  assign(value: string, wanted: string, file: string): { variable: string; secret: string; fresh: boolean };
}

const kebab = (s: string) =>
  s
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, "-")
    .replace(/^-+|-+$/g, "")
    .slice(0, 60) || "secret";

/** A store prefix from a folder name: lowercase, `[a-z0-9._-]`. */
export function secretPrefix(folderName: string): string {
  return kebab(folderName).replace(/^[^a-z0-9]+/, "") || "repo";
}

export function createNaming(prefix: string, taken: ReadonlySet<string>): Naming {
  const byValue = new Map<string, { variable: string; secret: string }>();
  const variables = new Set<string>();
  const secrets = new Set<string>(taken);
  const free = (base: string, stem: string, used: Set<string>, join: string) => {
    if (!used.has(base)) return base;
    const withStem = `${base}${join}${stem}`;
    if (stem !== "" && !used.has(withStem)) return withStem;
    for (let n = 2; ; n++) if (!used.has(`${base}${join}${n}`)) return `${base}${join}${n}`;
  };
  return {
    assign(value, wanted, file) {
      const known = byValue.get(value);
      if (known) return { ...known, fresh: false };
      const stem = (file.split("/").pop() ?? "").replace(/\.[^.]*$/, "").replace(/^\./, "");
      const variable = free(toEnvName(wanted), toEnvName(stem || "file"), variables, "_");
      const secret = free(`${prefix}/${kebab(variable)}`, kebab(stem), secrets, "-");
      variables.add(variable);
      secrets.add(secret);
      byValue.set(value, { variable, secret });
      return { variable, secret, fresh: true };
    },
  };
}
