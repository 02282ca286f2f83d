/** Transit findings: one per check and connection, its stage where the data goes, fingerprinted like every other finding. */
import { fingerprintOf } from "../../finding.js";
import type { ConnectionSpec, Finding, Severity } from "../../types.js";
import { SEVERITIES } from "../../types.js";

export type Evidence = Finding["evidence"];

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
    fingerprint: fingerprintOf(checkId, conn.id, conn.url),
  };
}
