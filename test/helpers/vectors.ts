import { readFileSync, readdirSync } from "node:fs";
import { fileURLToPath } from "node:url";
import path from "node:path";

export const VECTORS = path.join(path.dirname(fileURLToPath(import.meta.url)), "..", "vectors");

export interface WycheproofTest {
  tcId: number;
  result: "valid" | "invalid" | "acceptable";
  flags: string[];
  [field: string]: unknown;
}

export interface WycheproofGroup {
  tests: WycheproofTest[];
  [field: string]: unknown;
}

/** Loads a Wycheproof JSON file and returns its test groups. */
export function wycheproof(file: string): WycheproofGroup[] {
  return JSON.parse(readFileSync(path.join(VECTORS, "wycheproof", file), "utf8")).testGroups;
}

export const hex = (s: unknown): Buffer => Buffer.from(String(s), "hex");

/** FLOE known-answer tests: one entry per `<name>_pt.txt` / `<name>_ct.txt` pair. */
export function floeVectors(): { name: string; plaintext: Buffer; ciphertext: Buffer }[] {
  const dir = path.join(VECTORS, "floe");
  return readdirSync(dir)
    .filter((f) => f.endsWith("_pt.txt"))
    .map((f) => {
      const name = f.slice(0, -"_pt.txt".length);
      const read = (suffix: string) => Buffer.from(readFileSync(path.join(dir, `${name}_${suffix}.txt`), "utf8").trim(), "hex");
      return { name, plaintext: read("pt"), ciphertext: read("ct") };
    });
}
