/** The HTTP status a dashboard answer gets for an error: the key service's one table (src/server/errors.ts), so both sites agree. */
import { isPipesealError } from "../errors.js";
import { statusFor } from "../server/errors.js";

export function errorStatus(e: unknown): number {
  if (!isPipesealError(e)) return 500;
  return e.code === "CA_NOT_INITIALIZED" || e.code === "MONITOR_ALERT_NOT_FOUND" ? 404 : statusFor(e.code); // the service's table has no monitor codes
}
