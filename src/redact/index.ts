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
export { customDetector, assertSafePattern } from "./custom.js";
export type { CustomDetectorConfig, ValidatorName } from "./custom.js";
export { OPERATORS, ENC_TOKEN } from "./operators.js";
export type { Operator, EncryptTarget } from "./operators.js";
export { Redactor } from "./redactor.js";
export type { RedactOptions, RedactStats } from "./redactor.js";
export { createRedactStream } from "./stream.js";
export type { RedactStream, RedactStreamOptions } from "./stream.js";
export { pipesealPinoDestination, pipesealPinoHook } from "./pino.js";
export type { PinoDestinationLike } from "./pino.js";
export { revealLine } from "./reveal.js";
export { revealToken, DETECTOR_ALIASES } from "./tokenize.js";
export type { TokenizeTarget, RevealTokenRequest } from "./tokenize.js";
export { loadRedactPolicy, policyToOptions, readKeyFile } from "./policy.js";
export type { RedactPolicy } from "./policy.js";
