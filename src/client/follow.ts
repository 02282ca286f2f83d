/**
 * One follow of the key service's audit (GET /v1/audit/follow): the records after a seq as
 * they commit, and heartbeats. One connection, no reconnect: the caller knows the last seq it
 * took and follows again from there (src/monitor/live/remote-source.ts).
 *
 * A connection that goes quiet for longer than `idleMs` (no record, no heartbeat: a peer
 * gone without a FIN, a stalled proxy) is an error, not a silent wait for ever.
 */
import { AUDIT_FOLLOW_SCHEMA } from "../audit/follow.js";
import type { KeyServiceClient } from "./http.js";
import { KeyServiceError } from "./errors.js";
import { splitLines } from "./lines.js";

export type FollowEvent =
  /** `line` is the export line exactly as sent (with its "\n"). */
  { readonly type: "record"; readonly seq: number; readonly chainHash: string; readonly line: string } | { readonly type: "heartbeat"; readonly head: number };

export interface FollowOptions {
  readonly afterSeq?: number;
  /** Seconds between the service's heartbeats (1–300, default 5). */
  readonly heartbeatSeconds?: number;
  /** Quiet this long is a dead connection (default 3 heartbeats + 2 s). */
  readonly idleMs?: number;
  /** Ends the follow (the generator returns). */
  readonly signal?: AbortSignal;
}

/**
 * @throws KeyServiceError(ACCESS_DENIED …) before any event when the caller may not follow;
 *   KeyServiceError(UNAVAILABLE) when the connection drops, goes quiet or sends a garbled line.
 */
export async function* followAudit(client: KeyServiceClient, o: FollowOptions = {}): AsyncGenerator<FollowEvent> {
  const heartbeat = Math.min(300, Math.max(1, Math.floor(o.heartbeatSeconds ?? 5)));
  const q = new URLSearchParams({ afterSeq: String(Math.max(0, Math.floor(o.afterSeq ?? 0))), heartbeat: String(heartbeat) });
  if (o.signal?.aborted) return;
  const body = await client.stream(`/v1/audit/follow?${q}`, "application/x-ndjson");
  const idleMs = o.idleMs ?? heartbeat * 3000 + 2000;
  let quiet = false;
  let timer: NodeJS.Timeout | undefined;
  const arm = () => {
    clearTimeout(timer);
    timer = setTimeout(() => {
      quiet = true;
      body.destroy(new Error("no line within the idle time"));
    }, idleMs);
  };
  const stop = () => body.destroy();
  o.signal?.addEventListener("abort", stop, { once: true });
  arm();
  try {
    for await (const line of splitLines(body as AsyncIterable<Uint8Array>)) {
      if (o.signal?.aborted) return; // lines already read from a follow that was ended are not given
      arm();
      yield parseFollowLine(line);
    }
  } catch (e) {
    if (o.signal?.aborted) return;
    if (e instanceof KeyServiceError) throw e;
    throw new KeyServiceError(503, "UNAVAILABLE", quiet ? `the audit follow sent nothing for ${idleMs} ms` : "the audit follow was cut short or garbled", {
      cause: e,
    });
  } finally {
    clearTimeout(timer);
    o.signal?.removeEventListener("abort", stop);
    body.destroy();
  }
}

function parseFollowLine(line: string): FollowEvent {
  let v: { schema?: unknown; type?: unknown; head?: unknown; seq?: unknown; chainHash?: unknown };
  try {
    v = JSON.parse(line) as typeof v;
  } catch {
    throw new KeyServiceError(503, "UNAVAILABLE", "the audit follow sent a line that is not JSON");
  }
  if (v?.schema === AUDIT_FOLLOW_SCHEMA && v.type === "heartbeat" && Number.isSafeInteger(v.head) && (v.head as number) >= 0)
    return { type: "heartbeat", head: v.head as number };
  if (Number.isSafeInteger(v?.seq) && (v.seq as number) > 0 && typeof v.chainHash === "string")
    return { type: "record", seq: v.seq as number, chainHash: v.chainHash, line };
  throw new KeyServiceError(503, "UNAVAILABLE", "the audit follow sent a line that is neither a record nor a heartbeat");
}
