import { EXIT, exitStatusOf, type ErrorCode } from "../errors.js";

/** Process exit codes by error family (docs/errors.md): the registry's `exit` column (src/error-registry.ts). */
export { EXIT };

export function exitCodeFor(code: ErrorCode): number {
  return exitStatusOf(code);
}
