/** FieldError lives with every error class in src/errors.ts (one registry row per code); re-exported here for `pipeseal/fields` callers. */
export { FieldError } from "../errors.js";
