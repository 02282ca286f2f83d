/**
 * Transit checks: every connection in the map is probed as the real endpoint it names (the TLS
 * probe of src/pki/probe for https:// and tls://, one plaintext request for http://) and what was
 * observed becomes TRANSIT-* findings. Connections are probed a few at a time.
 */
import type { CheckContext, CheckModule, ConnectionSpec, Finding, ModuleResult } from "../types.js";
import { assessConnection } from "./transit/assess.js";
import { TRANSIT_PLAINTEXT, transitDefinitions } from "./transit/definitions.js";
import { parseEndpoint } from "./transit/endpoint.js";
import { observe } from "./transit/observe.js";

export { transitDefinitions } from "./transit/definitions.js";

export interface TransitOptions {
  /** Per connection attempt (connect, handshake, first read) in ms; a probe makes up to seven. Default 5000. */
  readonly timeoutMs?: number;
  /** Connections probed at once. Default 4. */
  readonly concurrency?: number;
}

/** Runs `work` over `items`, at most `limit` at a time, results in input order. */
async function mapLimited<T, R>(items: readonly T[], limit: number, work: (item: T) => Promise<R>): Promise<R[]> {
  const results = new Array<R>(items.length);
  let next = 0;
  const worker = async () => {
    while (next < items.length) {
      const i = next++;
      results[i] = await work(items[i]);
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
  return results;
}

/**
 * The transit check module with chosen timeouts.
 * @example
 * const result = await createTransitChecks({ timeoutMs: 2000 }).run({ map, now: new Date() });
 * @throws UsageError(MAP_INVALID) for a connection URL that is not http(s):// or tls://; UsageError for an unreadable `ca` or `certDir`.
 */
export function createTransitChecks(options: TransitOptions = {}): CheckModule {
  const timeoutMs = options.timeoutMs ?? 5000;
  const concurrency = Math.max(1, options.concurrency ?? 4);
  return {
    definitions: transitDefinitions,
    async run(ctx: CheckContext): Promise<ModuleResult> {
      const conns = ctx.map.connections;
      // every URL is checked before anything connects, so a broken map fails fast
      const endpoints = new Map(conns.map((c) => [c.id, parseEndpoint(c)] as const));
      let done = 0;
      const perConnection = await mapLimited(conns, concurrency, async (conn: ConnectionSpec) => {
        const o = await observe(conn, endpoints.get(conn.id)!, { baseDir: ctx.map.baseDir, now: ctx.now, timeoutMs });
        ctx.progress?.(++done);
        return assessConnection(conn, o);
      });
      const findings: Finding[] = perConnection.flat();
      const plaintext = findings
        .filter((f) => f.checkId === TRANSIT_PLAINTEXT)
        .map((f) => ({ stage: f.stage, location: f.location, kind: "plaintext-connection" as const, ageSeconds: null }));
      return { findings, examined: conns.map((c) => c.id), facts: { plaintext } };
    },
  };
}

/** The transit checks with default timeouts (5 s per attempt, four connections at once). */
export const transitChecks: CheckModule = createTransitChecks();
