/** `pipeseal/pki`: service identities, the internal CA, mTLS helpers and the TLS probe. */
export { identityAllowed, parseSpiffeId, spiffeId } from "./identity.js";
export type { ServiceIdentity } from "./identity.js";
export * from "./ca/index.js";
export * from "./probe/index.js";
export * from "./crl/index.js";
export {
  createMtlsServer,
  mtlsServerOptions,
  peerOf,
  createMtlsDispatcher,
  createReloadingMtlsDispatcher,
  ReloadingMtlsDispatcher,
  mtlsFetch,
  TransitError,
  toTransitError,
  REJECT_HEADER,
  spkiPin,
} from "./mtls/index.js";
export type {
  MtlsServer,
  MtlsRequestHandler,
  MtlsHttp2RequestHandler,
  MtlsServerParts,
  MtlsServerOptions,
  MtlsServerEvents,
  PeerRejectedEvent,
  MtlsClientOptions,
  ReloadingMtlsClientOptions,
  RejectedBy,
  PeerIdentity,
  PinOptions,
  RejectReason,
  CertSource,
  MinTlsVersion,
  // the CA's WatchOptions (renew --watch) keeps the short name; this one is the certificate-reload watch
  WatchOptions as CertReloadOptions,
} from "./mtls/index.js";
