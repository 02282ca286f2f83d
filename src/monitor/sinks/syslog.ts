/**
 * The syslog sink: RFC 5424 messages over UDP (one datagram each, RFC 5426) or TCP
 * (octet-counting framing, RFC 6587 §3.4.1), facility 13 (log audit). Structured data carries
 * the alert's id, detection, severity, state, principal, key and record count; the message is
 * the summary. The SD-ID uses enterprise number 32473, the one RFC 5612 reserves for
 * documentation: pipeseal has no number of its own.
 */
import { createSocket } from "node:dgram";
import { hostname } from "node:os";
import { connect, type Socket } from "node:net";
import { escapeControl } from "../table.js";
import type { Alert, Severity } from "../types.js";
import type { AlertSink } from "./sink.js";

const FACILITY = 13;
/** RFC 5424 §6.2.1 severities: critical 2, error 3, warning 4, notice 5. */
const SYSLOG_SEVERITY: Record<Severity, number> = { critical: 2, high: 3, medium: 4, low: 5 };
const MAX_VALUE = 256;

/** RFC 5424 §6.3.3: inside PARAM-VALUE, `"`, `\` and `]` are escaped; control characters are escaped here too. */
const sdValue = (s: string) => escapeControl(s.slice(0, MAX_VALUE)).replace(/[\\"\]]/g, (c) => "\\" + c);
/** §6.2: HOSTNAME, APP-NAME and MSGID are printable US-ASCII without spaces, or "-". */
const token = (s: string, max: number) => s.replace(/[^!-~]/g, "_").slice(0, max) || "-";

export function syslogMessage(a: Alert, appName: string, nowMs = Date.now(), host = hostname()): string {
  const pri = FACILITY * 8 + SYSLOG_SEVERITY[a.severity];
  const records = a.seqs.length + a.seqsOmitted;
  const sd = `[pipeseal@32473 id="${sdValue(a.id)}" detection="${a.detection}" severity="${a.severity}" state="${a.state}" principal="${sdValue(a.principal)}" key="${sdValue(a.key ?? "-")}" records="${records}" time="${a.time}"]`;
  return `<${pri}>1 ${new Date(nowMs).toISOString()} ${token(host, 255)} ${token(appName, 48)} ${process.pid} ${token(a.detection, 32)} ${sd} \ufeff${escapeControl(a.summary)}`;
}

export interface SyslogOptions {
  readonly host: string;
  readonly port: number;
  readonly protocol: "udp" | "tcp";
  readonly appName: string;
}

export function syslogSink(o: SyslogOptions): AlertSink {
  return o.protocol === "udp" ? udpSink(o) : tcpSink(o);
}

function udpSink(o: SyslogOptions): AlertSink {
  const sock = createSocket(o.host.includes(":") ? "udp6" : "udp4");
  sock.unref();
  return {
    name: `syslog udp ${o.host}:${o.port}`,
    send: (a) =>
      new Promise((resolve, reject) => sock.send(Buffer.from(syslogMessage(a, o.appName), "utf8"), o.port, o.host, (e) => (e ? reject(e) : resolve()))),
    close: async () => void sock.close(),
  };
}

/** One connection, opened on the first send and again after it breaks; a send on a broken connection rejects (the channel retries). */
function tcpSink(o: SyslogOptions): AlertSink {
  let sock: Socket | null = null;
  const open = () =>
    new Promise<Socket>((resolve, reject) => {
      const s = connect({ port: o.port, host: o.host, timeout: 5000 });
      const fail = (e: Error) => {
        s.destroy();
        reject(e);
      };
      s.once("error", fail);
      s.once("timeout", () => fail(new Error("syslog connect timed out")));
      s.once("connect", () => {
        s.off("error", fail);
        s.setTimeout(0);
        s.on("error", () => s.destroy());
        s.on("close", () => {
          if (sock === s) sock = null;
        });
        resolve(s);
      });
    });
  return {
    name: `syslog tcp ${o.host}:${o.port}`,
    async send(a) {
      const s = (sock ??= await open());
      const body = Buffer.from(syslogMessage(a, o.appName), "utf8");
      await new Promise<void>((resolve, reject) => s.write(Buffer.concat([Buffer.from(`${body.length} `), body]), (e) => (e ? reject(e) : resolve())));
    },
    async close() {
      const s = sock;
      sock = null;
      if (s) await new Promise<void>((resolve) => s.end(resolve));
    },
  };
}
