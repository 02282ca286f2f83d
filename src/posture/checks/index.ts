/** Every check module, in report order. Transit is src/posture/checks/transit.ts (its own engineer). */
import type { CheckModule } from "../types.js";
import { atRestChecks } from "./at-rest.js";
import { keysChecks } from "./keys.js";
import { leakChecks } from "./leaks.js";
import { plaintextChecks } from "./plaintext.js";
import { postgresChecks } from "./postgres.js";
import { retentionChecks } from "./retention.js";
import { tempFileChecks } from "./temp-files.js";
import { transitChecks } from "./transit.js";

export const CHECK_MODULES: readonly CheckModule[] = [
  atRestChecks,
  postgresChecks,
  transitChecks,
  keysChecks,
  plaintextChecks,
  tempFileChecks,
  leakChecks,
  retentionChecks,
];
