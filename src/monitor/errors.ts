/** MonitorError lives with every error class in src/errors.ts (one registry row per code); re-exported here for `pipeseal/monitor` callers. */
export { MonitorError } from "../errors.js";
