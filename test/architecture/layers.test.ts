/**
 * The layering of src/ (README "Architecture", DESIGN.md): every import points down the layer
 * table below, folders of one row do not import each other, and no file imports another that
 * imports it back (the import graph has no cycle at all). Reads the sources, so a new import
 * that points up fails here before review. A new folder under src/ must be given a row.
 */
import { readFileSync, readdirSync, statSync } from "node:fs";
import path from "node:path";
import { describe, expect, it } from "vitest";

/**
 * Lowest first. A file may import from its own folder and from any lower row; folders sharing
 * a row are peers and import nothing from each other. Top-level files are their own rows.
 * demo/ (`npm run demo`) is a program over the library beside cli/, never imported by it;
 * monitor/ sits above client/ because `monitor run --server` follows the key service's audit;
 * keys/ sits below envelope/ because the sealed-file container asks a Keyring (keys/keyring.ts)
 * for its data key; posture/ reads the key service (server/, client/) it checks; the gateway
 * reuses posture's probes, and secagg/ the gateway's identity patterns.
 */
const LAYERS: readonly (readonly string[])[] = [
  ["error-registry.ts"],
  ["errors.ts"],
  ["io"],
  ["crypto"],
  ["engine"],
  ["audit"],
  ["keys"],
  ["envelope"],
  ["pki"],
  ["redact"],
  ["fields", "secrets", "scan", "logs", "artifacts"],
  ["privacy"],
  ["server"],
  ["client"],
  ["monitor"],
  ["posture"],
  ["gateway"],
  ["secagg"],
  ["web"],
  ["cli", "demo"],
  ["index.ts"],
];

const SRC = new URL("../../src/", import.meta.url).pathname;
const rank = new Map(LAYERS.flatMap((row, i) => row.map((unit) => [unit, i] as const)));

function walk(dir: string): string[] {
  return readdirSync(dir).flatMap((n) => {
    const p = path.join(dir, n);
    return statSync(p).isDirectory() ? walk(p) : p.endsWith(".ts") ? [p] : [];
  });
}

/** The folder (or top-level file) of src/ a path belongs to. */
function unitOf(file: string): string {
  return path.relative(SRC, file).split(path.sep)[0]!;
}

/** Relative imports of a source file, resolved to .ts paths: static, re-exports, side-effect and dynamic. */
function importsOf(file: string, text: string): string[] {
  const specs = [
    ...text.matchAll(/(?:^|[\s;])(?:import|export)\s[^;]*?\bfrom\s*["']([^"']+)["']/g),
    ...text.matchAll(/(?:^|[\s;])import\s*["']([^"']+)["']/g),
    ...text.matchAll(/\bimport\(\s*["']([^"']+)["']\s*\)/g),
  ].map((m) => m[1]!);
  return specs.filter((s) => s.startsWith(".")).map((s) => path.resolve(path.dirname(file), s).replace(/\.js$/, ".ts"));
}

/** Every import cycle a depth-first walk meets, as `a.ts -> b.ts -> a.ts` (paths relative to src/). */
function cyclesOf(imports: ReadonlyMap<string, readonly string[]>): string[] {
  const state = new Map<string, "open" | "done">();
  const cycles: string[] = [];
  const visit = (f: string, trail: string[]): void => {
    if (state.get(f) === "done") return;
    if (state.get(f) === "open") {
      cycles.push([...trail.slice(trail.indexOf(f)), f].map((p) => path.relative(SRC, p)).join(" -> "));
      return;
    }
    state.set(f, "open");
    for (const t of imports.get(f) ?? []) visit(t, [...trail, f]);
    state.set(f, "done");
  };
  for (const f of imports.keys()) visit(f, []);
  return cycles;
}

const files = walk(SRC);
const graph = new Map(files.map((f) => [f, importsOf(f, readFileSync(f, "utf8"))] as const));

describe("src/ layering", () => {
  it("reads imports of every form (and nothing that is not a relative import)", () => {
    const f = path.join(SRC, "a", "b.ts");
    const text = [
      'import { x } from "../c/d.js";',
      'import type {\n  Y,\n  Z,\n} from "./e.js";',
      'export { w } from "../f.js";',
      'import "./side.js";',
      'const m = await import("../g/h.js");',
      'import fs from "node:fs";',
    ].join("\n");
    expect(
      importsOf(f, text)
        .map((p) => path.relative(SRC, p))
        .sort(),
    ).toEqual(["a/e.ts", "a/side.ts", "c/d.ts", "f.ts", "g/h.ts"]);
  });

  it("gives every folder and top-level file of src/ a row", () => {
    const units = [...new Set(files.map(unitOf))].sort();
    expect(units.filter((u) => !rank.has(u))).toEqual([]);
    for (const [, targets] of graph) for (const t of targets) expect([t, files.includes(t)]).toEqual([t, true]);
  });

  it("has every import point down the table, never up or sideways", () => {
    const bad: string[] = [];
    for (const [file, targets] of graph) {
      const from = unitOf(file);
      for (const t of targets) {
        const to = unitOf(t);
        if (from !== to && !(rank.get(to)! < rank.get(from)!)) bad.push(`${path.relative(SRC, file)} -> ${path.relative(SRC, t)}`);
      }
    }
    expect(bad).toEqual([]);
  });

  it("keeps the three imports issue 20 moved down where they now are", () => {
    const into = (unit: string, from: string) =>
      [...graph]
        .filter(([f]) => unitOf(f) === unit)
        .flatMap(([f, ts]) => ts.filter((t) => unitOf(t) === from).map((t) => `${path.relative(SRC, f)} -> ${path.relative(SRC, t)}`));
    // durations and sizes are io/, not CLI concerns
    expect(into("posture", "cli")).toEqual([]);
    expect(files.map((f) => path.relative(SRC, f)).filter((f) => /^cli\/(duration|size)\.ts$/.test(f))).toEqual([]);
    // audit/ takes no type from keys/ (export-local declares the LocalAuditSource it reads)
    expect(into("audit", "keys")).toEqual([]);
    // redaction's tokens come from crypto/ff1-tokens.ts, which fields/ uses too
    expect(into("redact", "fields")).toEqual([]);
  });

  it("finds cycles of any length, two files importing each other among them (and none where two paths only meet)", () => {
    const g = (edges: Record<string, string[]>) =>
      new Map(Object.entries(edges).map(([f, ts]) => [path.join(SRC, f), ts.map((t) => path.join(SRC, t))] as const));
    expect(cyclesOf(g({ "a.ts": ["b.ts"], "b.ts": ["a.ts"] }))).toEqual(["a.ts -> b.ts -> a.ts"]);
    expect(cyclesOf(g({ "a.ts": ["b.ts"], "b.ts": ["c.ts"], "c.ts": ["a.ts"] }))).toEqual(["a.ts -> b.ts -> c.ts -> a.ts"]);
    expect(cyclesOf(g({ "a.ts": ["b.ts", "c.ts"], "b.ts": ["c.ts"], "c.ts": [] }))).toEqual([]);
  });

  it("has no import cycle: no two files import each other, directly or through others", () => {
    expect(cyclesOf(graph)).toEqual([]);
  });
});
