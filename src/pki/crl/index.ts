/**
 * `pipeseal/pki` revocation for relying parties: CRLs verified against the CAs a server
 * trusts, the per-certificate check, and a file source that reloads when `pipeseal ca crl`
 * rewrites it. The mTLS gate (`createMtlsServer`/`mtlsServerOptions` with `crl` or `crlFile`)
 * uses them; a server that terminates TLS itself can too.
 */
export { RevocationList, trustedCrlIssuers } from "./check.js";
export type { CrlExpiredPolicy, RevocationListOptions, RevocationVerdict } from "./check.js";
export { verifyCrl, parseCrlBundle } from "./load.js";
export type { VerifiedCrl } from "./load.js";
export { CrlSource, CRL_POLL_MS } from "./source.js";
export type { CrlSourceOptions } from "./source.js";
