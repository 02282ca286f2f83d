/** `pipeseal/pki`: service identities, the internal CA, mTLS helpers and the TLS probe. */
export { identityAllowed, parseSpiffeId, spiffeId } from "./identity.js";
export type { ServiceIdentity } from "./identity.js";
