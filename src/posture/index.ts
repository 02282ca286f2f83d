/** Posture: the pipeline map, its checks, and the report. */
export * from "./types.js";
