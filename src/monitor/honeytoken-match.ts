/**
 * Is this record a use of a honeytoken? A honeytoken is a key, an object or a context value
 * that monitor.yaml names, or a decoy that `honeytoken plant` recorded (matched by the sealed
 * header's hash, which travels with the file wherever it is copied, and by its path).
 */
import type { MonitorConfig } from "./config.js";
import { globMatcher } from "./glob.js";
import type { MonitorRecord } from "./types.js";

/** A planted decoy as the registry keeps it (src/monitor/honeytoken/registry.ts). */
export interface PlantedDecoy {
  readonly id: string;
  readonly key: string;
  readonly headerHash: string;
  readonly path: string;
}

export type HoneytokenHit = { readonly by: "key" | "object" | "context" | "decoy"; readonly what: string };

export function honeytokenMatcher(config: MonitorConfig["honeytokens"], decoys: readonly PlantedDecoy[] = []): (r: MonitorRecord) => HoneytokenHit | null {
  const keyMatch = globMatcher(config.keys);
  const objectMatch = globMatcher(config.objects);
  const byHash = new Map(decoys.map((d) => [d.headerHash, d]));
  const byPath = new Map(decoys.map((d) => [d.path, d]));
  const contexts = Object.entries(config.contexts).map(([k, vs]) => [k, new Set(vs)] as const);
  const keyCache = new Map<string, boolean>();
  return (r) => {
    if (r.key !== null) {
      let hit = keyCache.get(r.key);
      if (hit === undefined) keyCache.set(r.key, (hit = keyMatch(r.key)));
      if (hit) return { by: "key", what: r.key };
    }
    if (decoys.length > 0) {
      const decoy = (r.headerHash !== null ? byHash.get(r.headerHash) : undefined) ?? (r.object !== null ? byPath.get(r.object) : undefined);
      if (decoy) return { by: "decoy", what: decoy.id };
    }
    if (r.object !== null && objectMatch(r.object)) return { by: "object", what: r.object };
    if (r.context !== null) {
      for (const [k, vs] of contexts) {
        const v = r.context[k];
        if (v !== undefined && vs.has(v)) return { by: "context", what: `${k}=${v}` };
      }
    }
    return null;
  };
}
