/** Path globs of gateway rules (`train/**`, `eval/*.jsonl`), over plaintext paths relative to the root. */
import { UsageError } from "../errors.js";
import { compileGlob } from "../posture/glob.js";

export interface PathGlob {
  readonly source: string;
  /** The literal folder before the first wildcard ("" for none): listings show folders on the way to it. */
  readonly base: string;
  matches(rel: string): boolean;
}

/** @throws UsageError(INVALID_ARGUMENT) for an absolute pattern or one with `..`. */
export function compilePathGlob(source: string): PathGlob {
  if (typeof source !== "string" || source === "" || source.startsWith("/") || source.split("/").some((s) => s === ".." || s === ".")) {
    throw new UsageError("INVALID_ARGUMENT", `path glob "${String(source).slice(0, 80)}" must be relative to the root, without . or .. segments`);
  }
  const { base, match } = compileGlob(`/${source}`);
  const literal = base === "/" ? "" : base.slice(1);
  const matches = (rel: string): boolean => {
    if (literal === "") return match(rel);
    if (rel === literal) return match("");
    return rel.startsWith(`${literal}/`) && match(rel.slice(literal.length + 1));
  };
  return Object.freeze({ source, base: literal, matches });
}

/** True if some path under folder `dir` could match: the folder lies on the way to the glob's base, or inside it. */
export function mayMatchUnder(glob: PathGlob, dir: string): boolean {
  if (glob.base === "" || dir === "") return true;
  return glob.base === dir || glob.base.startsWith(`${dir}/`) || dir.startsWith(`${glob.base}/`);
}
