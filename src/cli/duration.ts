/** Moved to io/ (durations are not a CLI concern); kept so older imports resolve. */
export * from "../io/duration.js";
