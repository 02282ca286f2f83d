/**
 * The internal CA: a root and an issuing CA whose private keys live only sealed in the
 * keystore (every use is an audited unwrap), short-lived leaf certificates carrying SPIFFE
 * identities, revocation with CRLs, and renewal at 2/3 of a certificate's lifetime. Every
 * init, issue, renew, revoke and CRL is recorded in the keystore's audit chain in the same
 * transaction as the registry change.
 */
export { initCa, DEFAULT_CA_NAME, DEFAULT_MAX_TTL_SECONDS, DEFAULT_TRUST_DOMAIN, ISSUING_LIFETIME_SECONDS, ROOT_LIFETIME_SECONDS } from "./init.js";
export type { InitCaOptions } from "./init.js";
export { issueCertificate, certKind, csrPublicKey } from "./issue.js";
export type { IssueOptions, IssuedCertificate } from "./issue.js";
export { DEFAULT_CLIENT_TTL_SECONDS, DEFAULT_SERVER_TTL_SECONDS } from "./mint.js";
export { revokeCertificate, parseReason } from "./revoke.js";
export type { RevokeOptions } from "./revoke.js";
export { createCrl, DEFAULT_CRL_NEXT_UPDATE_SECONDS } from "./crl.js";
export type { Crl, CrlOptions } from "./crl.js";
export { renewCertificateDir, renewalDueAt } from "./renew.js";
export type { RenewOptions, RenewResult } from "./renew.js";
export { watchCertificateDir } from "./watch.js";
export type { WatchOptions } from "./watch.js";
export { caInfo, exportCaPem, listCertificates } from "./list.js";
export { CA_FILE, CERT_FILE, KEY_FILE, readCertDir, writeCertDir } from "./files.js";
export type { CertFiles } from "./files.js";
export { CA_KEY_NAME } from "./store.js";
export { REVOCATION_REASONS } from "./types.js";
export type { CaInfo, CertKind, CertRecord, CertStatus, RevocationReason } from "./types.js";
