/** The transit checks as `posture explain` prints them. Ids are stable; a retired id is never reused. */
import type { CheckDefinition } from "../../types.js";

export const TRANSIT_PLAINTEXT = "TRANSIT-PLAINTEXT";
export const TRANSIT_TLS_VERSION = "TRANSIT-TLS-VERSION";
export const TRANSIT_CIPHER = "TRANSIT-CIPHER";
export const TRANSIT_CERT = "TRANSIT-CERT";
export const TRANSIT_MTLS = "TRANSIT-MTLS";
export const TRANSIT_UNREACHABLE = "TRANSIT-UNREACHABLE";

export const transitDefinitions: readonly CheckDefinition[] = [
  {
    id: TRANSIT_PLAINTEXT,
    title: "Data crosses a connection in plaintext",
    severity: "high",
    question: "plaintext",
    description:
      "The connection's URL is http://, or the endpoint answers a plaintext HTTP request on its port (besides or instead of TLS). " +
      "Anyone on the path can read and change what crosses it. Raised to critical when the connection carries PII, PHI, financial data or secrets.",
    fix: "Serve the endpoint over TLS only (pipeseal's createMtlsServer, or a TLS-terminating proxy with no plaintext listener) and change the map's URL to https://.",
  },
  {
    id: TRANSIT_TLS_VERSION,
    title: "The endpoint accepts TLS older than 1.2",
    severity: "high",
    question: "plaintext",
    description: "One handshake per protocol version is tried against the endpoint; accepting TLS 1.0 or 1.1 (deprecated by RFC 8996) is a finding.",
    fix: 'Set the server\'s minimum protocol to TLS 1.2 (Node: minVersion "TLSv1.2"; pipeseal servers already do) and prefer TLS 1.3.',
  },
  {
    id: TRANSIT_CIPHER,
    title: "The endpoint negotiates a weak or legacy cipher suite",
    severity: "medium",
    question: "plaintext",
    description:
      "The cipher suite the endpoint chose for this client's default handshake, and for each version it accepts, is read: suites without forward secrecy " +
      "(static RSA key exchange) and broken ones (RC4, 3DES, DES, NULL, EXPORT, anonymous, MD5) are findings.",
    fix: "Restrict the server to AEAD suites with ECDHE key exchange (TLS 1.3 suites, ECDHE-*-AES-GCM / CHACHA20-POLY1305 for TLS 1.2); Node's default cipher list does.",
  },
  {
    id: TRANSIT_CERT,
    title: "The server certificate is not valid for this connection",
    severity: "high",
    question: "access",
    description:
      "The server's certificate is checked as presented: expired or not yet valid, issued for another name, not chaining to the CA the map names " +
      "(or the system roots), self-signed, weak key or signature, lifetime over 90 days, or close to expiry without renewal.",
    fix: "Issue the server a short-lived certificate for the name clients use from the CA the map names (pipeseal ca issue --server --dns <name>) and renew it automatically (pipeseal ca renew --watch).",
  },
  {
    id: TRANSIT_MTLS,
    title: "The map says mTLS but the endpoint does not require a client certificate",
    severity: "high",
    question: "access",
    description:
      "For a connection with mtls: true, a handshake and a request are tried without a client certificate; a server that completes them lets any client in. " +
      "With the map's certDir, the handshake is also tried with that client certificate, and its failure is reported.",
    fix: "Require and verify client certificates on the server (Node: requestCert and rejectUnauthorized, or pipeseal's createMtlsServer with an allow-list of identities).",
  },
  {
    id: TRANSIT_UNREACHABLE,
    title: "The endpoint could not be probed",
    severity: "medium",
    question: "plaintext",
    description:
      "Nothing answered at the connection's address within the timeout, the name did not resolve, or what answered does not speak TLS or HTTP, so nothing about it could be verified.",
    fix: "Run the check from a host that can reach the endpoint, or correct the URL in the map; an endpoint that no longer exists should leave the map.",
  },
];
