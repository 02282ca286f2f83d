/**
 * pipeseal redaction: detectors for PII and secrets, redaction operators, stream and logger
 * integrations. The detector contract lives in `types.ts` (shared with the scanner).
 */
export type { Detector, Finding, FindingKind } from "./types.js";
export { builtinDetectors, BUILTIN_DETECTOR_IDS } from "./detectors/index.js";
export type { BuiltinDetectorId } from "./detectors/index.js";
export { detectAll, DEFAULT_MIN_CONFIDENCE } from "./detect.js";
export type { DetectOptions } from "./detect.js";
export { resolveOverlaps } from "./resolve.js";
export { allowListHash, allowPredicate } from "./allow-list.js";
export type { AllowList } from "./allow-list.js";
export { luhn, mod97, entropy } from "./detectors/util.js";
