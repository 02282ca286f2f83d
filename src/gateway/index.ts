/**
 * `pipeseal/gateway`: the data gateway (docs/gateway.md). Training and inference jobs in any
 * language read sealed datasets and models over HTTPS with mutual TLS, by byte range, with
 * no plaintext on disk; every object a peer opens is an audited unwrap naming that peer.
 */
export { startGateway, GATEWAY_REJECT } from "./server.js";
export type { Gateway, GatewayOptions } from "./server.js";
export type { GatewayLog } from "./handler.js";
export { GATEWAY_DENY } from "./handler.js";
export { GATEWAY_SERVED } from "./objects.js";
export { GATEWAY_READ, localBackend } from "./backend.js";
export { remoteBackend } from "./remote-backend.js";
export type { GatewayBackend } from "./backend.js";
export { loadGatewayPolicy, parseGatewayPolicy, decide } from "./policy.js";
export type { GatewayPolicy, GatewayRule, PolicyDecision } from "./policy.js";
export { compileIdentityPattern, identityMatches } from "./identity-pattern.js";
export type { IdentityPattern } from "./identity-pattern.js";
export { parseRange } from "./range.js";
export type { RangeRequest } from "./range.js";
