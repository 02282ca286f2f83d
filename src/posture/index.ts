/**
 * Posture: the pipeline map (`pipeline.yaml`), checks that verify it against the real files,
 * keys, audit log and endpoints, and the report answering the four questions of a review
 * (docs/posture.md).
 *
 * Security guarantees: checks only read (sealed files: headers only; no key is unwrapped, no
 * file written); findings and reports carry names, counts, ages and masked hints, never key
 * material, plaintext or secret values.
 *
 * @example
 * const map = await loadMap("pipeline.yaml");
 * const report = await checkPosture(map, { keys: keystoreSource(ks, home) });
 * if (findingsAtOrAbove(report, "high").length) process.exitCode = 8;
 */
export * from "./types.js";
export { parseMap } from "./map/parse.js";
export { loadMap } from "./map/load.js";
export { MAP_TEMPLATE } from "./map/template.js";
export { checkPosture, findingsAtOrAbove, statusOf, type CheckPostureOptions } from "./check.js";
export { CHECK_MODULES } from "./checks/index.js";
export { checkDefinitions, explainCheck, formatDefinition } from "./explain.js";
export { fingerprintOf, compareFindings } from "./finding.js";
export { keystoreSource, serviceSource } from "./keys/source.js";
export { readPostureBaseline } from "./baseline.js";
export { toPostureSarif, POSTURE_FINGERPRINT_NAME } from "./report/sarif.js";
export { renderTerminal } from "./report/terminal.js";
