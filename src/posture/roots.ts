/** The mapped roots: every folder the map names (store folders, glob bases, compute paths), with its stage. */
import { lstatSync } from "node:fs";
import { compileGlob } from "./glob.js";
import type { PipelineMap, StageId } from "./types.js";

export interface Root {
  readonly abs: string;
  readonly stage: StageId;
  /** The store or compute id. */
  readonly subject: string;
  readonly kind: "store" | "compute";
}

export function mappedRoots(map: PipelineMap): Root[] {
  const out: Root[] = [];
  for (const stage of map.stages) {
    for (const s of stage.stores) {
      if (s.path) out.push({ abs: s.kind === "glob" ? compileGlob(s.path).base : s.path, stage: stage.id, subject: s.id, kind: "store" });
    }
    for (const c of stage.compute) if (c.path) out.push({ abs: c.path, stage: stage.id, subject: c.id, kind: "compute" });
  }
  return out;
}

/** The innermost root holding `abs`, or null. */
export function rootOf(roots: readonly Root[], abs: string): Root | null {
  let best: Root | null = null;
  for (const r of roots) if ((abs === r.abs || abs.startsWith(r.abs + "/")) && (!best || r.abs.length > best.abs.length)) best = r;
  return best;
}

export function exists(p: string): { isFile: boolean; size: number; mtimeMs: number } | null {
  try {
    const st = lstatSync(p);
    return { isFile: st.isFile(), size: st.size, mtimeMs: st.mtimeMs };
  } catch {
    return null;
  }
}
