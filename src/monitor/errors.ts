/** The monitor's typed errors (codes in src/errors.ts, rows in docs/errors.md). */
import { PipesealError } from "../errors.js";

/** Bad monitor input: an audit line that is not `pipeseal.audit.v1`, or an invalid monitor.yaml. */
export class MonitorError extends PipesealError {}
