/** The TLS probe: `probeTls` and the report it returns. */
export { probeTls, LEGACY_CIPHERS } from "./probe.js";
export { assessFindings } from "./findings.js";
export type {
  CertificateInfo,
  ClientAuthResult,
  Finding,
  HandshakeSummary,
  PlaintextResult,
  ProbeOptions,
  ProbeReport,
  ProbeTarget,
  Severity,
  TlsVersion,
  ValidationResult,
  VersionProbe,
  VersionResult,
} from "./types.js";
