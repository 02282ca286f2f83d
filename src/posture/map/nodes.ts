/**
 * Typed reads from a YAML node tree that keep line numbers: every failure is
 * `PipesealError("MAP_INVALID", "pipeline.yaml:LINE: …")`, pointing at the offending node.
 */
import { type LineCounter, type Node, type YAMLMap, isMap, isScalar, isSeq } from "yaml";
import { PipesealError } from "../../errors.js";
import { parseDuration } from "../../io/duration.js";

export class MapReader {
  constructor(
    private readonly file: string,
    private readonly lc: LineCounter,
  ) {}

  lineOf(node: unknown): number {
    const r = (node as Node | undefined)?.range;
    return r ? this.lc.linePos(r[0]).line : 1;
  }

  fail(node: unknown, message: string): never {
    throw new PipesealError("MAP_INVALID", `${this.file}:${this.lineOf(node)}: ${message}`);
  }

  /** A mapping whose keys are all in `allowed`. */
  map(node: unknown, what: string, allowed: readonly string[]): YAMLMap {
    if (!isMap(node)) return this.fail(node, `${what} must be a mapping`);
    for (const item of node.items) {
      const k = isScalar(item.key) ? item.key.value : undefined;
      if (typeof k !== "string" || !allowed.includes(k)) {
        this.fail(item.key, `unknown ${what} key "${String(k).slice(0, 40)}" (allowed: ${allowed.join(", ")})`);
      }
    }
    return node;
  }

  get(map: YAMLMap, key: string): Node | undefined {
    return map.get(key, true);
  }

  str(node: Node | undefined, what: string, re?: RegExp, hint?: string): string {
    const v = isScalar(node) ? node.value : undefined;
    if (typeof v !== "string" || v.length === 0) return this.fail(node, `${what} must be a non-empty string`);
    if (re && !re.test(v)) return this.fail(node, `${what} "${v.slice(0, 60)}" is not valid${hint ? `: ${hint}` : ""}`);
    return v;
  }

  optStr(map: YAMLMap, key: string, what: string, re?: RegExp, hint?: string): string | undefined {
    const n = this.get(map, key);
    return n === undefined || (isScalar(n) && n.value === null) ? undefined : this.str(n, what, re, hint);
  }

  oneOf<T extends string>(node: Node | undefined, what: string, values: readonly T[]): T {
    const v = isScalar(node) ? node.value : undefined;
    if (typeof v !== "string" || !values.includes(v as T))
      return this.fail(node, `${what} must be one of ${values.join(", ")} (got ${JSON.stringify(v ?? null)})`);
    return v as T;
  }

  bool(node: Node | undefined, what: string, fallback: boolean): boolean {
    if (node === undefined) return fallback;
    const v = isScalar(node) ? node.value : undefined;
    if (typeof v !== "boolean") return this.fail(node, `${what} must be true or false`);
    return v;
  }

  /** `90d`, `24h`… (io/duration) in seconds. */
  duration(node: Node | undefined, what: string): number | undefined {
    if (node === undefined) return undefined;
    const v = isScalar(node) ? node.value : undefined;
    try {
      return parseDuration(String(v));
    } catch {
      return this.fail(node, `${what} must be a duration such as 90d, 24h or 30m (got ${JSON.stringify(v ?? null)})`);
    }
  }

  seq(node: Node | undefined, what: string): Node[] {
    if (node === undefined || (isScalar(node) && node.value === null)) return [];
    if (!isSeq(node)) return this.fail(node, `${what} must be a list`);
    return node.items as Node[];
  }

  strMap(node: Node | undefined, what: string, keyRe: RegExp): Record<string, string> | undefined {
    if (node === undefined) return undefined;
    if (!isMap(node)) return this.fail(node, `${what} must be a mapping of strings`);
    const out: Record<string, string> = {};
    for (const item of node.items) {
      const k = this.str(item.key as Node, `a ${what} key`, keyRe);
      const v = isScalar(item.value) ? item.value.value : undefined;
      if (typeof v !== "string" && typeof v !== "number") this.fail(item.value ?? item.key, `${what}.${k} must be a string`);
      out[k] = String(v);
    }
    return out;
  }
}
