/** Building transit findings: stable fingerprints, the connection's stage, one finding per check and connection. */
import { createHash } from "node:crypto";
import type { ConnectionSpec, Finding, Severity } from "../../types.js";
import { SEVERITIES } from "../../types.js";

export type Evidence = Finding["evidence"];

/** sha256 hex of check id, subject and location (NUL-separated so the parts cannot run together). */
export function fingerprint(checkId: string, subject: string, location: string): string {
  return createHash("sha256").update(`${checkId}\0${subject}\0${location}`).digest("hex");
}

export function worst(severities: readonly Severity[]): Severity {
  return SEVERITIES.find((s) => severities.includes(s)) ?? "info";
}

/** A finding about a connection: its stage is where the data goes (`to`), its location the URL. */
export function connectionFinding(conn: ConnectionSpec, checkId: string, severity: Severity, message: string, evidence: Evidence): Finding {
  return {
    checkId,
    severity,
    stage: conn.to,
    subject: conn.id,
    location: conn.url,
    message,
    evidence,
    fingerprint: fingerprint(checkId, conn.id, conn.url),
  };
}
