/** What a connection's endpoint really does: the TLS probe for https:// and tls://, a plaintext request for http://. */
import path from "node:path";
import { isPipesealError } from "../../../errors.js";
import { probeTls, type ProbeReport } from "../../../pki/probe/index.js";
import type { ConnectionSpec } from "../../types.js";
import type { Endpoint } from "./endpoint.js";
import { reachPlain, type PlainReach } from "./plain.js";

export type Observation =
  /** The map names an http:// URL: nothing to probe for TLS; did it answer? */
  | { readonly kind: "http"; readonly reach: PlainReach }
  | { readonly kind: "tls"; readonly report: ProbeReport }
  /** A TLS URL where no handshake completed: `reach` says whether the port answers plaintext or nothing at all. */
  | { readonly kind: "no-tls"; readonly error: string; readonly reach: PlainReach };

export interface ObserveOptions {
  readonly baseDir: string;
  readonly now: Date;
  /** Per connection attempt (TCP connect, handshake, first read). */
  readonly timeoutMs: number;
}

/**
 * Probes one connection. Never rejects for what the endpoint does.
 * @throws UsageError for the map's own mistakes (unreadable `ca` or `certDir`).
 */
export async function observe(conn: ConnectionSpec, endpoint: Endpoint, o: ObserveOptions): Promise<Observation> {
  if (endpoint.scheme === "http") return { kind: "http", reach: await reachPlain(endpoint.host, endpoint.port, o.timeoutMs) };
  try {
    const report = await probeTls(endpoint.target, {
      ...(conn.ca ? { ca: path.resolve(o.baseDir, conn.ca) } : {}),
      ...(conn.certDir ? { certDir: path.resolve(o.baseDir, conn.certDir) } : {}),
      timeoutMs: o.timeoutMs,
      expectMtls: conn.mtls,
      now: o.now,
    });
    return { kind: "tls", report };
  } catch (e) {
    if (!isPipesealError(e) || e.code !== "TLS_CONNECT_FAILED") throw e;
    return { kind: "no-tls", error: e.message, reach: await reachPlain(endpoint.host, endpoint.port, o.timeoutMs) };
  }
}
