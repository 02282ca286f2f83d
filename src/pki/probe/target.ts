/** Parses the probe target: `https://host[:port][/]` or `host:port` (IPv6 in brackets). */
import { isIP } from "node:net";
import { UsageError } from "../../errors.js";

export interface ParsedTarget {
  host: string;
  port: number;
}

const HOST = /^[A-Za-z0-9.-]{1,253}$/;

function bad(target: string, why: string): UsageError {
  return new UsageError("INVALID_ARGUMENT", `"${target.slice(0, 100)}" is not a probe target (${why}); use https://host:port or host:port`);
}

/** @throws UsageError(INVALID_ARGUMENT) on anything but an https URL or host:port. */
export function parseTarget(target: string): ParsedTarget {
  const text = target.trim();
  let url: URL;
  try {
    url = new URL(/^[a-z][a-z0-9+.-]*:\/\//i.test(text) ? text : `https://${text}`);
  } catch {
    throw bad(target, "not a URL");
  }
  if (url.protocol !== "https:") throw bad(target, `scheme ${url.protocol.replace(/:$/, "")} is not https`);
  if (url.username || url.password) throw bad(target, "credentials in the URL");
  if ((url.pathname !== "/" && url.pathname !== "") || url.search || url.hash) throw bad(target, "a path, query or fragment");
  // WHATWG URL drops the default port, so a bare host:443 and https://host both give "".
  const explicitScheme = /^https:\/\//i.test(text);
  if (!url.port && !explicitScheme && !/:443$/.test(text)) throw bad(target, "no port");
  const port = url.port ? Number(url.port) : 443;
  const host = url.hostname.startsWith("[") ? url.hostname.slice(1, -1) : url.hostname;
  if (!host || (!isIP(host) && !HOST.test(host))) throw bad(target, "bad host");
  if (!Number.isInteger(port) || port < 1 || port > 65535) throw bad(target, "bad port");
  return { host, port };
}
