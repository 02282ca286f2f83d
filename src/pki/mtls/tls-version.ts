/** The protocol floor: TLS 1.3 by default, 1.2 on request, nothing lower (RFC 8996 deprecates 1.0/1.1). */
import { UsageError } from "../../errors.js";

export type MinTlsVersion = "TLSv1.3" | "TLSv1.2";

/** @throws UsageError(INVALID_ARGUMENT) for anything but TLSv1.3 / TLSv1.2. */
export function checkMinVersion(v: unknown): MinTlsVersion {
  if (v === undefined) return "TLSv1.3";
  if (v === "TLSv1.3" || v === "TLSv1.2") return v;
  throw new UsageError("INVALID_ARGUMENT", `minVersion ${JSON.stringify(v)} is not allowed: use "TLSv1.3" (default) or "TLSv1.2"`);
}
