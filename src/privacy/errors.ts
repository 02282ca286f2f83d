/** PrivacyError lives with every error class in src/errors.ts (one registry row per code); re-exported here for `pipeseal/privacy` callers. */
export { PrivacyError } from "../errors.js";
