/** Plaintext reachability of an endpoint: does anything accept a TCP connection, and does it answer HTTP. */
import { lookup } from "node:dns/promises";
import net from "node:net";
import { checkPlaintextHttp } from "../../../pki/probe/plaintext.js";

export interface PlainReach {
  readonly connected: boolean;
  /** First line of a plaintext HTTP answer, or null. */
  readonly statusLine: string | null;
  /** Why nothing connected (DNS or socket error code, or "timed out"). */
  readonly error?: string;
}

function tcpConnect(address: string, port: number, timeoutMs: number): Promise<string | null> {
  return new Promise((resolve) => {
    const socket = net.connect({ host: address, port });
    const done = (error: string | null) => {
      clearTimeout(timer);
      socket.destroy();
      resolve(error);
    };
    const timer = setTimeout(() => done("timed out"), timeoutMs);
    socket.on("connect", () => done(null));
    socket.on("error", (e: NodeJS.ErrnoException) => done(e.code ?? e.message));
  });
}

/** Never rejects. Connects only to the one address `host` resolves to; `error` is set when nothing connected. */
export async function reachPlain(host: string, port: number, timeoutMs: number): Promise<PlainReach> {
  let address = host;
  if (!net.isIP(host)) {
    try {
      address = (await lookup(host)).address;
    } catch (e) {
      return { connected: false, statusLine: null, error: `cannot resolve ${host}: ${(e as NodeJS.ErrnoException).code ?? "error"}` };
    }
  }
  const error = await tcpConnect(address, port, timeoutMs);
  if (error) return { connected: false, statusLine: null, error };
  const hostHeader = net.isIP(host) === 6 ? `[${host}]` : host;
  const { httpStatusLine } = await checkPlaintextHttp(address, port, hostHeader, Math.min(timeoutMs, 2000));
  return { connected: true, statusLine: httpStatusLine };
}
