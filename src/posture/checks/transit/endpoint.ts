/** A connection's URL as something to probe: scheme, host and port (paths are ignored: TLS is per port). */
import { UsageError } from "../../../errors.js";
import type { ConnectionSpec } from "../../types.js";

export interface Endpoint {
  readonly scheme: "http" | "https" | "tls";
  readonly host: string;
  readonly port: number;
  /** `host:port` (IPv6 in brackets), the form probeTls takes for any TLS scheme. */
  readonly target: string;
}

const DEFAULT_PORTS = { http: 80, https: 443 } as const;

/** @throws UsageError(MAP_INVALID) for a URL that is not http://, https:// or tls://host:port. */
export function parseEndpoint(conn: ConnectionSpec): Endpoint {
  const bad = (why: string) =>
    new UsageError("MAP_INVALID", `connection ${conn.id}: "${conn.url.slice(0, 100)}" ${why}; use https://host:port, tls://host:port or http://host:port`);
  let url: URL;
  try {
    url = new URL(conn.url);
  } catch {
    throw bad("is not a URL");
  }
  const scheme = url.protocol.replace(/:$/, "");
  if (scheme !== "http" && scheme !== "https" && scheme !== "tls") throw bad(`has scheme ${scheme}`);
  if (url.username || url.password) throw bad("carries credentials");
  const host = url.hostname.startsWith("[") ? url.hostname.slice(1, -1) : url.hostname;
  if (!host) throw bad("has no host");
  // WHATWG URL leaves the port of an unknown scheme as written and drops a default one.
  const port = url.port ? Number(url.port) : scheme === "tls" ? NaN : DEFAULT_PORTS[scheme];
  if (!Number.isInteger(port) || port < 1 || port > 65535) throw bad("has no port");
  return { scheme, host, port, target: `${host.includes(":") ? `[${host}]` : host}:${port}` };
}
