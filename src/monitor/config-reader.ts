/**
 * Typed reads from a YAML node tree that keep line numbers, for monitor.yaml: every failure
 * is MonitorError(MONITOR_CONFIG_INVALID, "monitor.yaml:LINE: …") pointing at the node at fault.
 * Internal.
 */
import { type LineCounter, type Node, type YAMLMap, isMap, isScalar, isSeq } from "yaml";
import { parseDuration } from "../io/duration.js";
import { MonitorError } from "./errors.js";

export class ConfigReader {
  constructor(
    private readonly file: string,
    private readonly lc: LineCounter,
  ) {}

  fail(node: unknown, message: string): never {
    const r = (node as Node | undefined)?.range;
    throw new MonitorError("MONITOR_CONFIG_INVALID", `${this.file}:${r ? this.lc.linePos(r[0]).line : 1}: ${message}`);
  }

  /** A mapping (or nothing) whose keys are all in `allowed`. */
  map(node: unknown, what: string, allowed: readonly string[]): YAMLMap | undefined {
    if (node === undefined || (isScalar(node) && node.value === null)) return undefined;
    if (!isMap(node)) return this.fail(node, `${what} must be a mapping`);
    for (const item of node.items) {
      const k = isScalar(item.key) ? item.key.value : undefined;
      if (typeof k !== "string" || !allowed.includes(k))
        this.fail(item.key, `unknown ${what} key "${String(k).slice(0, 40)}" (allowed: ${allowed.join(", ")})`);
    }
    return node;
  }

  get(map: YAMLMap | undefined, key: string): Node | undefined {
    return map?.get(key, true);
  }

  str(map: YAMLMap | undefined, key: string, what: string, re?: RegExp): string | undefined {
    const n = this.get(map, key);
    if (n === undefined) return undefined;
    const v = isScalar(n) ? n.value : undefined;
    if (typeof v !== "string" || v === "") return this.fail(n, `${what} must be a non-empty string`);
    if (re && !re.test(v)) return this.fail(n, `${what} "${v.slice(0, 60)}" is not valid`);
    return v;
  }

  num(map: YAMLMap | undefined, key: string, what: string, min: number, max: number, integer = false): number | undefined {
    const n = this.get(map, key);
    if (n === undefined) return undefined;
    const v = isScalar(n) ? n.value : undefined;
    if (typeof v !== "number" || !Number.isFinite(v) || v < min || v > max || (integer && !Number.isInteger(v))) {
      return this.fail(n, `${what} must be ${integer ? "an integer" : "a number"} from ${min} to ${max}`);
    }
    return v;
  }

  bool(map: YAMLMap | undefined, key: string, what: string): boolean | undefined {
    const n = this.get(map, key);
    if (n === undefined) return undefined;
    const v = isScalar(n) ? n.value : undefined;
    if (typeof v !== "boolean") return this.fail(n, `${what} must be true or false`);
    return v;
  }

  oneOf<T extends string>(map: YAMLMap | undefined, key: string, what: string, values: readonly T[]): T | undefined {
    const n = this.get(map, key);
    if (n === undefined) return undefined;
    const v = isScalar(n) ? n.value : undefined;
    if (typeof v !== "string" || !values.includes(v as T)) return this.fail(n, `${what} must be one of ${values.join(", ")}`);
    return v as T;
  }

  /** A duration such as `10m`, `1h`, `14d` in seconds. */
  duration(map: YAMLMap | undefined, key: string, what: string): number | undefined {
    const n = this.get(map, key);
    if (n === undefined) return undefined;
    const v = isScalar(n) ? n.value : undefined;
    try {
      return parseDuration(String(v));
    } catch {
      return this.fail(n, `${what} must be a duration such as 10m, 1h or 14d`);
    }
  }

  /** An ISO 8601 time in epoch ms. */
  time(map: YAMLMap | undefined, key: string, what: string): number | undefined {
    const n = this.get(map, key);
    if (n === undefined) return undefined;
    const v = isScalar(n) ? n.value : undefined;
    const ms = typeof v === "string" && /^\d{4}-\d\d-\d\dT/.test(v) ? Date.parse(v) : v instanceof Date ? v.getTime() : NaN;
    if (!Number.isFinite(ms)) return this.fail(n, `${what} must be an ISO 8601 time such as 2026-10-26T00:00:00Z`);
    return ms;
  }

  seq(node: Node | undefined, what: string): Node[] {
    if (node === undefined || (isScalar(node) && node.value === null)) return [];
    if (!isSeq(node)) return this.fail(node, `${what} must be a list`);
    return node.items as Node[];
  }

  strList(map: YAMLMap | undefined, key: string, what: string): string[] {
    return this.seq(this.get(map, key), what).map((n) => {
      const v = isScalar(n) ? n.value : undefined;
      if (typeof v !== "string" || v === "") return this.fail(n, `each of ${what} must be a non-empty string`);
      return v;
    });
  }
}
