/** The shape of a TLS probe report. Everything in it was observed on a real connection. */

export type TlsVersion = "TLSv1" | "TLSv1.1" | "TLSv1.2" | "TLSv1.3";
export const TLS_VERSIONS: readonly TlsVersion[] = ["TLSv1", "TLSv1.1", "TLSv1.2", "TLSv1.3"];

export interface ProbeOptions {
  /** PEM file of trusted CA certificates; default: Node's root store (plus NODE_EXTRA_CA_CERTS). */
  ca?: string;
  /** Folder holding `cert.pem` and `key.pem`: also try the handshake with this client certificate. */
  certDir?: string;
  /** SNI and the name checked against the certificate; default: the target host (no SNI for an IP). */
  servername?: string;
  /** Per-connection timeout in milliseconds (connect, handshake and first read). Default 5000, at most 60000. */
  timeoutMs?: number;
  /** The service is meant to require client certificates: not requiring one becomes a medium finding. */
  expectMtls?: boolean;
  /** Send one plaintext `GET /` to the same port. Default true. */
  plaintextCheck?: boolean;
  /** Clock for expiry arithmetic (tests). */
  now?: Date;
}

export interface ProbeTarget {
  host: string;
  port: number;
  /** The one address every connection goes to (resolved once). */
  address: string;
  /** SNI sent, or null when the target is an IP address and no --servername was given. */
  servername: string | null;
  /** The name the certificate is checked against. */
  checkedName: string;
}

export interface CertificateInfo {
  subject: string;
  issuer: string;
  serial: string;
  notBefore: string;
  notAfter: string;
  daysLeft: number;
  secondsLeft: number;
  lifetimeHours: number;
  /** Lifetime of 7 days or less (pipeseal issues 24 h server and 1 h client certificates). */
  shortLived: boolean;
  sans: { type: "dns" | "ip" | "uri" | "email" | "other"; value: string }[];
  /** URI SANs in the spiffe:// scheme. */
  spiffeIds: string[];
  key: { type: string; bits: number | null; curve?: string };
  signatureAlgorithm: string;
  selfSigned: boolean;
  isCa: boolean;
  sha256: string;
}

export type VersionResult = "accepted" | "refused" | "not-testable" | "no-answer";

export interface VersionProbe {
  version: TlsVersion;
  result: VersionResult;
  /** The alert or error seen, or why it could not be tested. */
  detail?: string;
  cipher?: string;
}

export interface HandshakeSummary {
  /** The handshake completed from this client's side. */
  ok: boolean;
  protocol: string | null;
  cipher: string | null;
  /** IANA name of the cipher suite. */
  cipherStandardName: string | null;
  ephemeralKey: string | null;
  alpn: string | null;
  /** Error code (alert) when the handshake, or the first read after it, failed. */
  error?: string;
}

export interface ClientAuthResult {
  /** true / false when observed, null when it could not be told. */
  required: boolean | null;
  evidence: string;
  /** Present when a client certificate was given. */
  withCertificate?: { ok: boolean; protocol: string | null; cipher: string | null; error?: string };
}

export interface ValidationResult {
  trustStore: string;
  /** null when no handshake completed, so OpenSSL's verdict could not be read. */
  trusted: boolean | null;
  error?: string;
  name: { checked: string; matches: boolean; error?: string };
}

export interface PlaintextResult {
  tested: boolean;
  /** First line of a plaintext HTTP answer, or null when the port did not answer HTTP. */
  httpStatusLine: string | null;
}

export type Severity = "high" | "medium" | "low" | "info";

export interface Finding {
  id: string;
  severity: Severity;
  message: string;
}

export interface ProbeReport {
  target: ProbeTarget;
  probedAt: string;
  /** A handshake with this client's defaults (TLS 1.2-1.3, no client certificate). */
  handshake: HandshakeSummary;
  protocols: VersionProbe[];
  /** Certificates in the order the server sent them (leaf first). */
  chain: CertificateInfo[];
  validation: ValidationResult;
  clientAuth: ClientAuthResult;
  plaintext: PlaintextResult;
  findings: Finding[];
}
