/** `scan --fix`: move found secrets into the secret store and make code read them at run time. */
export { planFixes, type FileFix, type FixOptions, type FixPlan, type PlannedSecret, type Unfixed } from "./plan.js";
export { applyFixes, type SecretSink } from "./apply.js";
export { unifiedDiff } from "./diff.js";
