/**
 * The engine's state as plain JSON, for the sealed state file of `monitor run`: baselines,
 * the last seq taken and the open incidents, so a restart resumes with no duplicate and no gap.
 * Its size is bounded like the engine's memory (principals × keys).
 */
import { MonitorError } from "./errors.js";
import type { Incident } from "./incidents.js";
import { HourProfile, type ValueSet } from "./profile.js";
import type { Bucket, PkState, PrincipalState } from "./engine-types.js";

export const ENGINE_STATE_VERSION = 1;

interface ProfileJson {
  mean: number[];
  week: number[];
}

export interface EngineState {
  readonly version: typeof ENGINE_STATE_VERSION;
  readonly cutoffMs: number | null;
  readonly lastSeq: number;
  readonly principals: [string, Omit<PrincipalState, "profile"> & { profile: ProfileJson }][];
  readonly pks: [
    string,
    Omit<PkState, "profile" | "contexts" | "objects"> & { profile: ProfileJson; contexts: [string, string[] | "open"][]; objects: string[] },
  ][];
  readonly incidents: (Omit<Incident, "suppressedBy"> & { suppressedBy: unknown })[];
}

export function toEngineState(
  cutoffMs: number | undefined,
  lastSeq: number,
  principals: Map<string, PrincipalState>,
  pks: readonly PkState[],
  incidents: Incident[],
): EngineState {
  return {
    version: ENGINE_STATE_VERSION,
    cutoffMs: cutoffMs ?? null,
    lastSeq,
    principals: [...principals].map(([k, p]) => [k, { ...p, profile: p.profile.toJSON() }]),
    pks: pks.map((pk) => [
      `${pk.principal}\0${pk.key}`,
      {
        ...pk,
        profile: pk.profile.toJSON(),
        contexts: [...pk.contexts].map(([ck, v]): [string, string[] | "open"] => [ck, v === "open" ? "open" : [...v]]),
        objects: [...pk.objects],
      },
    ]),
    incidents: incidents.map((i) => ({ ...i })),
  };
}

const bucket = (b: Bucket): Bucket => ({ hour: b.hour, count: b.count, seqs: [...b.seqs], alerted: b.alerted });

/** @throws MonitorError(MONITOR_STATE_INVALID) for a state of another version or shape. */
export function fromEngineState(s: EngineState): {
  cutoffMs: number | undefined;
  lastSeq: number;
  principals: [string, PrincipalState][];
  pks: PkState[];
  incidents: Incident[];
} {
  if (
    s === null ||
    typeof s !== "object" ||
    s.version !== ENGINE_STATE_VERSION ||
    !Array.isArray(s.principals) ||
    !Array.isArray(s.pks) ||
    !Array.isArray(s.incidents)
  ) {
    throw new MonitorError("MONITOR_STATE_INVALID", "the monitor state file is of another version or damaged");
  }
  return {
    cutoffMs: s.cutoffMs ?? undefined,
    lastSeq: s.lastSeq,
    principals: s.principals.map(([k, p]) => [
      k,
      { ...p, bucket: bucket(p.bucket), denials: [...p.denials], profile: new HourProfile(p.profile.mean, p.profile.week) },
    ]),
    pks: s.pks.map(([k, pk]): PkState => ({
      ...pk,
      // states written before principal and key were fields: the id is principal \0 key (key names hold no \0)
      principal: pk.principal ?? k.slice(0, k.lastIndexOf("\0")),
      key: pk.key ?? k.slice(k.lastIndexOf("\0") + 1),
      bucket: bucket(pk.bucket),
      profile: new HourProfile(pk.profile.mean, pk.profile.week),
      contexts: new Map<string, ValueSet>(pk.contexts.map(([ck, v]) => [ck, v === "open" ? "open" : new Set(v)])),
      objects: new Set(pk.objects),
    })),
    incidents: s.incidents.map((i) => ({
      ...i,
      seqs: [...i.seqs],
      newValues: [...i.newValues],
      evidence: { ...i.evidence },
      suppressedBy: (i.suppressedBy ?? null) as Incident["suppressedBy"],
    })),
  };
}
