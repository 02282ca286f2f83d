/** Reads `pipeline.yaml` from disk; relative paths in it resolve against its folder. */
import { readFile } from "node:fs/promises";
import path from "node:path";
import { UsageError } from "../../errors.js";
import type { PipelineMap } from "../types.js";
import { parseMap } from "./parse.js";

/**
 * @example const map = await loadMap("pipeline.yaml");
 * @throws PipesealError(MAP_INVALID) with the line at fault; UsageError(INVALID_ARGUMENT) when the file cannot be read.
 */
export async function loadMap(file: string): Promise<PipelineMap> {
  const abs = path.resolve(file);
  let text: string;
  try {
    text = await readFile(abs, "utf8");
  } catch (e) {
    throw new UsageError("INVALID_ARGUMENT", `cannot read the pipeline map ${file} (${(e as NodeJS.ErrnoException).code ?? "error"})`);
  }
  return parseMap(text, path.dirname(abs), path.basename(abs));
}
