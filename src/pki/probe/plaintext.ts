/** One plaintext HTTP request to the TLS port: a server that answers it serves data unencrypted. */
import net from "node:net";
import type { PlaintextResult } from "./types.js";

/** Resolves with the first line of an HTTP answer, or null; never rejects. Connects to `address:port` only. */
export function checkPlaintextHttp(address: string, port: number, host: string, waitMs: number): Promise<PlaintextResult> {
  return new Promise((resolve) => {
    const socket = net.connect({ host: address, port });
    let data = Buffer.alloc(0);
    const finish = () => {
      clearTimeout(timer);
      socket.destroy();
      const line = data.subarray(0, 200).toString("latin1").split("\r\n")[0];
      resolve({ tested: true, httpStatusLine: /^HTTP\/\d/.test(line) ? line : null });
    };
    const timer = setTimeout(finish, waitMs);
    socket.on("connect", () => socket.write(`GET / HTTP/1.0\r\nHost: ${host}\r\n\r\n`));
    socket.on("data", (d: Buffer) => {
      data = Buffer.concat([data, d]);
      if (data.includes("\r\n") || data.length >= 200) finish();
    });
    socket.on("error", finish);
    socket.on("close", finish);
  });
}
