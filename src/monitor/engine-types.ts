/**
 * The detection engine's per-principal and per-key state: its own module because the engine
 * (engine.ts) and the state-file codec (state.ts) both use it, and neither imports the other.
 */
import type { HourProfile, ValueSet } from "./profile.js";

/** @internal */
export interface Bucket {
  hour: number;
  count: number;
  seqs: number[];
  alerted: boolean;
}

/** @internal */
export interface PrincipalState {
  learned: boolean;
  days: number;
  lastDay: number;
  keys: number;
  readonly profile: HourProfile;
  bucket: Bucket;
  denials: { t: number; seq: number }[];
}

/** @internal */
export interface PkState {
  readonly principal: string;
  readonly key: string;
  readonly firstMs: number;
  learned: boolean;
  readonly profile: HourProfile;
  bucket: Bucket;
  readonly contexts: Map<string, ValueSet>;
  win: number;
  objects: Set<string>;
  winSeqs: number[];
  prevCount: number;
  prevSeqs: number[];
  prevAlerted: boolean;
  winAlerted: boolean;
  peak: number;
  /** The last closed pair's distinct count, learned into `peak` when the next window closes quietly. */
  pending: number;
}
