/** `mtlsFetch`: undici's fetch over an mTLS dispatcher, with failures as typed pipeseal errors. */
import { type Dispatcher, type RequestInfo, type RequestInit, type Response, fetch } from "undici";
import { ownCertOf } from "./dispatcher.js";
import { REJECT_HEADER, TransitError, toTransitError } from "./errors.js";

/**
 * Fetches through `dispatcher` and turns transport failures into `TransitError`s: a refused
 * certificate on either side is CERT_REJECTED with `reason` and `rejectedBy`; handshake or
 * protocol failures are TLS_CONNECT_FAILED. A pipeseal server's 403 for a client identity it
 * does not allow also becomes CERT_REJECTED (identity-not-allowed, rejectedBy "remote").
 * Other HTTP statuses are returned as usual.
 *
 * @example
 * ```ts
 * try {
 *   const res = await mtlsFetch(dispatcher, "https://feature-store.internal:8443/health");
 * } catch (e) {
 *   if (e instanceof TransitError && e.reason === "expired") renewNow();
 * }
 * ```
 * @throws TransitError (CERT_REJECTED | TLS_CONNECT_FAILED); PipesealError passed through
 */
export async function mtlsFetch(dispatcher: Dispatcher, input: RequestInfo, init: Omit<RequestInit, "dispatcher"> = {}): Promise<Response> {
  let res: Response;
  try {
    res = await fetch(input, { ...init, dispatcher });
  } catch (e) {
    throw toTransitError(e, ownCertOf(dispatcher));
  }
  if (res.status === 403 && res.headers.get(REJECT_HEADER) === "CERT_REJECTED") {
    await res.body?.cancel();
    throw new TransitError("CERT_REJECTED", "identity-not-allowed", "remote", "the server does not allow our identity (or our key does not match its pins)");
  }
  return res;
}
