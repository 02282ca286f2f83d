/** SecaggError lives with every error class in src/errors.ts (one registry row per code); re-exported here for `pipeseal/secagg` callers. */
export { SecaggError } from "../errors.js";
