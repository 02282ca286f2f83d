import { PipesealError } from "../errors.js";

/** A server's listen failure as a typed error with the fix; other errors pass through unchanged. */
export function listenError(e: unknown, host: string, port: number): unknown {
  const code = (e as NodeJS.ErrnoException)?.code;
  const where = `${host.includes(":") ? `[${host}]` : host}:${port}`;
  if (code === "EADDRINUSE") return new PipesealError("LISTEN_FAILED", `${where} is already in use by another process; stop it or listen on another port`);
  if (code === "EACCES") return new PipesealError("LISTEN_FAILED", `not allowed to listen on ${where} (ports below 1024 need privileges); use a port ≥ 1024`);
  if (code === "EADDRNOTAVAIL")
    return new PipesealError("LISTEN_FAILED", `${host} is not an address of this machine; listen on one of its addresses, e.g. 127.0.0.1`);
  return e;
}
