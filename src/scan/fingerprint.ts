/**
 * Stable fingerprints and masked hints.
 *
 * Fingerprint = HMAC-SHA-256(key, "pipeseal-scan/v1" ‖ detector ‖ path ‖ SHA-256(value)), hex.
 * Why the value's hash and the path rather than the line's text: the fingerprint must survive
 * lines inserted above, reformatting of the line, and the finding moving inside the file, and it
 * must change when the secret is rotated (a new secret is a new finding). The same secret twice
 * in one file is one fingerprint — one leak, one alert. Renaming the file changes it.
 *
 * Why keyed: SARIF and baseline files get uploaded to dashboards, and an unkeyed hash of a
 * low-entropy value (a phone number, a US SSN) can be reversed by trying every candidate. With
 * the default public key the fingerprint is only as private as a plain hash; set a secret key
 * (`fingerprintKey`, the CLI's `PIPESEAL_SCAN_KEY`) to make fingerprints useless for guessing.
 * Changing the key changes every fingerprint, so keep one key per repository.
 */
import { createHash, createHmac } from "node:crypto";

export const DEFAULT_FINGERPRINT_KEY = "pipeseal-scan-fingerprint/v1 (public default key)";

export function fingerprint(key: string | Uint8Array, detector: string, path: string, value: string): string {
  const valueHash = createHash("sha256").update(value, "utf8").digest();
  return createHmac("sha256", key)
    .update("pipeseal-scan/v1\0")
    .update(detector + "\0" + path + "\0", "utf8")
    .update(valueHash)
    .digest("hex");
}

/**
 * At most 4 leading and 4 trailing characters, and only of a value long enough that 8 characters
 * leave most of it hidden; shorter values show only their length class.
 */
export function maskHint(value: string): string {
  const chars = [...value.trim()];
  if (chars.length >= 24) return `${chars.slice(0, 4).join("")}…${chars.slice(-4).join("")}`;
  if (chars.length >= 12) return `${chars.slice(0, 2).join("")}…${chars.slice(-2).join("")}`;
  return "…";
}
