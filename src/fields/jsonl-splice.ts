/**
 * The JSONL apply hot path for policies of top-level `encrypt` (and `keep`) rules: each
 * protected value is replaced inside the line's text, so a record is neither parsed into
 * objects nor serialised again. Internal; reached through `FieldProtector.applyJsonLine`.
 *
 * It only takes lines `scanCanonical` accepts (formats/jsonl-scan.ts) and values the general
 * path would encrypt as strings; for anything else — another value type, a missing or odd
 * record id, a key not derived yet, any invalid line — it declines and the caller parses the
 * line and runs `processNow`, which reports errors exactly as before. On the lines it takes,
 * the output is the general path's (parse → apply → stringify) byte for byte apart from the
 * random IVs, with the same stats; test/fields/jsonl-splice.test.ts checks both.
 */
import type { FieldGcm } from "./gcm.js";
import type { FieldKey } from "./keys.js";
import { type CompiledPath } from "./path.js";
import type { FieldPolicy, FieldRule } from "./policy.js";
import type { FieldStats } from "./stats.js";
import { LineScan, NULL, STRING, scanCanonical } from "./formats/jsonl-scan.js";

/** A one-segment path without wildcard or index (`ssn`): its name, else undefined. */
export function directName(path: CompiledPath): string | undefined {
  const [step, more] = path.steps;
  return more === undefined && step?.kind === "key" && step.glob === null && !path.hasWildcard ? step.name : undefined;
}

export class JsonlSplice {
  readonly #rules: readonly FieldRule[];
  readonly #names: string[];
  readonly #encrypt: boolean[];
  readonly #idName: string | undefined;
  readonly #gcm: FieldGcm;
  readonly #keyFor: (rule: FieldRule) => FieldKey | undefined;
  readonly #stats: FieldStats;
  readonly #scan = new LineScan();
  readonly #member: Int32Array;
  readonly #keys: (FieldKey | undefined)[];
  readonly #sealed: (string | undefined)[] = [];

  /** null when the policy has another action, a nested or wildcard path, or a subject key. */
  static for(policy: FieldPolicy, gcm: FieldGcm, keyFor: (rule: FieldRule) => FieldKey | undefined, stats: FieldStats): JsonlSplice | null {
    const names = policy.rules.map((r) => directName(r.field));
    const idName = policy.recordId ? directName(policy.recordId) : undefined;
    const plain = policy.rules.every((r, i) => names[i] !== undefined && (r.action === "keep" || (r.action === "encrypt" && !r.subject)));
    if (!plain || new Set(names).size !== names.length || (policy.recordId && idName === undefined)) return null;
    return new JsonlSplice(policy, names as string[], idName, gcm, keyFor, stats);
  }

  private constructor(
    policy: FieldPolicy,
    names: string[],
    idName: string | undefined,
    gcm: FieldGcm,
    keyFor: (rule: FieldRule) => FieldKey | undefined,
    stats: FieldStats,
  ) {
    this.#rules = policy.rules;
    this.#names = names;
    this.#encrypt = policy.rules.map((r) => r.action === "encrypt");
    this.#idName = idName;
    this.#gcm = gcm;
    this.#keyFor = keyFor;
    this.#stats = stats;
    this.#member = new Int32Array(names.length);
    this.#keys = new Array<FieldKey | undefined>(names.length);
  }

  /** The output line, or undefined to take the general path (nothing counted then). */
  apply(line: string, row: number): string | undefined {
    const scan = this.#scan;
    const count = scanCanonical(line, scan);
    if (count < 0) return undefined;
    const member = this.#member.fill(-1);
    const names = this.#names;
    let idAt = -1;
    for (let k = 0; k < count; k++) {
      const ks = scan.keyStart[k];
      const len = scan.keyEnd[k] - ks;
      for (let r = 0; r < names.length; r++) {
        if (names[r].length === len && line.startsWith(names[r], ks)) {
          member[r] = k;
          break;
        }
      }
      if (this.#idName !== undefined && this.#idName.length === len && line.startsWith(this.#idName, ks)) idAt = k;
    }
    // check everything before anything is counted or encrypted (a decline leaves no trace)
    let needsId = false;
    for (let r = 0; r < names.length; r++) {
      const k = member[r];
      if (k < 0 || !this.#encrypt[r]) continue;
      needsId = true;
      const kind = scan.kind[k];
      if (kind === STRING && scan.valueEnd[k] - scan.valueStart[k] > 2) {
        const key = this.#keyFor(this.#rules[r]);
        if (key === undefined) return undefined;
        this.#keys[r] = key;
      } else if (kind !== NULL && kind !== STRING) return undefined; // numbers, booleans, lists: general path
    }
    let recordId = `#${row}`;
    if (needsId && this.#idName !== undefined) {
      if (idAt < 0) return undefined;
      const vs = scan.valueStart[idAt];
      const ve = scan.valueEnd[idAt];
      const c = line.charCodeAt(vs);
      if (scan.kind[idAt] === STRING && ve - vs > 2) recordId = line.slice(vs + 1, ve - 1);
      else if (c === 0x2d || (c >= 0x30 && c <= 0x39))
        recordId = line.slice(vs, ve); // canonical: String(Number(text)) === text
      else return undefined;
    }
    const sealed = this.#sealed;
    let changed = 0;
    for (let r = 0; r < names.length; r++) {
      const k = member[r];
      if (k < 0) {
        this.#stats.absent[names[r]] = (this.#stats.absent[names[r]] ?? 0) + 1;
        continue;
      }
      if (!this.#encrypt[r]) continue;
      const vs = scan.valueStart[k];
      const ve = scan.valueEnd[k];
      if (scan.kind[k] === NULL || ve - vs === 2) {
        this.#stats.empty++;
        continue;
      }
      sealed[k] = this.#gcm.sealValue(this.#keys[r]!, line.slice(vs + 1, ve - 1), names[r], recordId, { row, field: names[r] });
      changed++;
    }
    this.#stats.rows++;
    if (changed === 0) return line;
    this.#stats.values.encrypt = (this.#stats.values.encrypt ?? 0) + changed;
    let out = "";
    let pos = 0;
    for (let k = 0; k < count; k++) {
      const v = sealed[k];
      if (v === undefined) continue;
      out += line.slice(pos, scan.valueStart[k]) + '"' + v + '"';
      pos = scan.valueEnd[k]!;
      sealed[k] = undefined;
    }
    return out + line.slice(pos);
  }
}
