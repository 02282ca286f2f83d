/** `pipeseal/pki` mTLS: servers, fetch dispatchers, certificate reload, typed transit errors. */
export { createMtlsServer } from "./server.js";
export type { MtlsServer, MtlsRequestHandler, MtlsHttp2RequestHandler } from "./server.js";
export { mtlsServerOptions } from "./server-options.js";
export type { MtlsServerParts } from "./server-options.js";
export { peerOf } from "./gate.js";
export type { MtlsServerOptions, MtlsServerEvents, PeerRejectedEvent } from "./gate.js";
export { createMtlsDispatcher } from "./dispatcher.js";
export type { MtlsClientOptions } from "./dispatcher.js";
export { createReloadingMtlsDispatcher, ReloadingMtlsDispatcher } from "./reloading-dispatcher.js";
export type { ReloadingMtlsClientOptions } from "./reloading-dispatcher.js";
export { mtlsFetch } from "./fetch.js";
export { TransitError, toTransitError, REJECT_HEADER } from "./errors.js";
export type { RejectedBy } from "./errors.js";
export { spkiPin } from "./peer.js";
export type { PeerIdentity, PinOptions, RejectReason } from "./peer.js";
export type { CertSource } from "./material.js";
export type { MinTlsVersion } from "./tls-version.js";
export type { WatchOptions } from "./watch.js";
