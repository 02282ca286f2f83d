import { UsageError } from "../errors.js";

/**
 * `--fail-on SEVERITY` against an ordered list (most severe first): returns a test that is true
 * for a severity at or above the threshold. One reading for posture and tls probe.
 */
export function failOnArg<S extends string>(text: string, order: readonly S[]): (s: S) => boolean {
  const limit = order.indexOf(text as S);
  if (limit < 0) throw new UsageError("INVALID_ARGUMENT", `--fail-on takes one of ${order.join(", ")} (got "${text}")`);
  return (s) => order.indexOf(s) <= limit;
}
