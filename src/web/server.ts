/**
 * `pipeseal ui`: the dashboard over the local keystore on a loopback address only. Plain HTTP
 * is acceptable there because nothing leaves the machine; a non-loopback address is refused
 * (a remote dashboard is the key service's /ui/, behind mTLS). The URL it returns carries a
 * single-use login token (session.ts).
 *
 * @example
 * const ui = await startDashboard({ ks, listen: "127.0.0.1:0" });
 * console.log(ui.loginUrl()); // http://127.0.0.1:PORT/?token=…
 * await ui.close();
 */
import type { AddressInfo } from "node:net";
import { AUDIT_QUERY_CAPABILITY, AUDIT_QUERY_MIGRATIONS } from "../audit/query-indexes.js";
import { UsageError } from "../errors.js";
import { listenError } from "../io/listen-error.js";
import type { LocalKeystore } from "../keys/keystore.js";
import type { AlertSource } from "./alerts.js";
import { dashboardApp } from "./app.js";
import { ledgerAlertSource } from "./alert-ledger.js";
import { localAccess } from "./local-access.js";
import { type Dashboard, USE_OPERATIONS } from "./context.js";
import { UseCounter } from "./use-counter.js";
import type { PostureSource } from "./posture-source.js";
import { SessionGate } from "./session.js";

export interface StartDashboardOptions {
  readonly ks: LocalKeystore;
  /** host:port on a loopback address (default 127.0.0.1:0, any free port). */
  readonly listen?: string;
  /** The monitor's alerts (default: the keystore's alert ledger, which `monitor run` fills; null: none). */
  readonly alerts?: AlertSource | null;
  readonly posture?: PostureSource | null;
  readonly readOnly?: boolean;
  readonly now?: () => number;
  /** What the header says this is (default: the keystore folder). */
  readonly label?: string;
}

export interface RunningDashboard {
  /** http://host:port/ */
  readonly origin: string;
  /** The origin with a fresh single-use login token. */
  loginUrl(): string;
  close(): Promise<void>;
}

const LOOPBACK = new Set(["127.0.0.1", "::1", "localhost"]);

/** host and port from "127.0.0.1:8080", "[::1]:8080", "localhost:0" or "8080". @throws UsageError(INVALID_ARGUMENT) off loopback or malformed */
export function parseLoopbackListen(text: string): { host: string; port: number } {
  const m = /^(?:\[([^\]]+)\]|([^:[\]]+)):([0-9]{1,5})$/.exec(text) ?? (/^[0-9]{1,5}$/.test(text) ? [text, undefined, "127.0.0.1", text] : null);
  if (m === null)
    throw new UsageError("INVALID_ARGUMENT", `--listen must be HOST:PORT on this machine's loopback, e.g. 127.0.0.1:8080 (got "${text.slice(0, 60)}")`);
  const host = m[1] ?? m[2];
  const port = Number(m[3]);
  if (port > 65535) throw new UsageError("INVALID_ARGUMENT", `port ${port} is out of range`);
  if (!LOOPBACK.has(host))
    throw new UsageError(
      "INVALID_ARGUMENT",
      `pipeseal ui listens on loopback only (127.0.0.1, ::1 or localhost), not ${host.slice(0, 60)}: serve the dashboard to other machines through the key service (/ui/, behind mTLS)`,
    );
  return { host: host === "localhost" ? "127.0.0.1" : host, port };
}

export async function startDashboard(options: StartDashboardOptions): Promise<RunningDashboard> {
  const { host, port } = parseLoopbackListen(options.listen ?? "127.0.0.1:0");
  options.ks.ensureTables(AUDIT_QUERY_CAPABILITY, AUDIT_QUERY_MIGRATIONS); // the indexes the pages' queries need, once per keystore
  const gate = new SessionGate(options.now ? { now: options.now } : {});
  const alerts = options.alerts === undefined ? ledgerAlertSource(options.ks, options.now) : options.alerts;
  const d: Dashboard = {
    ks: options.ks,
    now: options.now ?? Date.now,
    alerts,
    posture: options.posture ?? null,
    frame: { base: "/", label: options.label ?? "local keystore", identity: options.ks.principal },
    readOnly: options.readOnly === true,
    lastVerify: null,
    useCounters: { hour: new UseCounter(USE_OPERATIONS, 3_600_000), day: new UseCounter(USE_OPERATIONS, 86_400_000) },
  };
  let hosts = new Set<string>();
  let origins = new Set<string>();
  const readOnly = options.readOnly === true;
  const app = dashboardApp(d, localAccess({ ks: options.ks, gate, base: "/", allowedHosts: () => hosts, origins: () => origins, readOnly, alerts }));
  try {
    await app.listen({ host, port });
  } catch (e) {
    await app.close();
    throw listenError(e, host, port);
  }
  const bound = (app.server.address() as AddressInfo).port;
  const h = host.includes(":") ? `[${host}]` : host;
  hosts = new Set([`${h}:${bound}`, ...(host === "127.0.0.1" ? [`localhost:${bound}`] : [])]);
  origins = new Set([...hosts].map((x) => `http://${x}`));
  const origin = `http://${h}:${bound}/`;
  return {
    origin,
    loginUrl: () => `${origin}?token=${gate.mintToken()}`,
    close: () => app.close(),
  };
}
