/**
 * The webhook sink: POSTs each alert as JSON over HTTPS with mTLS (our client certificate
 * from certDir, followed when renewed; the server's certificate from our CA, its name matching
 * the URL and its SPIFFE ID one of `expect`). `send` only queues: alerts wait in a sealed queue
 * bounded on disk (sealed-queue.ts), so a sink that is down loses nothing across restarts, and
 * the monitor's loop never waits on the network. Delivery runs in the background, one alert at
 * a time in order, retrying any failure (refused connection, timeout, a status other than 2xx)
 * with exponential backoff and jitter. A full queue rejects `send` with
 * MonitorError(MONITOR_QUEUE_FULL): the monitor raises it on its other sinks and stops with a
 * non-zero status, rather than drop alerts silently.
 */
import { randomInt } from "node:crypto";
import { request, type Dispatcher } from "undici";
import type { Keyring } from "../../keys/keyring.js";
import { createReloadingMtlsDispatcher } from "../../pki/mtls/reloading-dispatcher.js";
import { SealedQueue } from "./sealed-queue.js";
import type { AlertSink } from "./sink.js";

export interface WebhookOptions {
  readonly url: string;
  readonly certDir: string;
  readonly expect: readonly string[];
  readonly queueFile: string;
  readonly queueMax: number;
  /** Seals the queue file (the monitor's state key). */
  readonly keyring: Keyring;
  readonly stateKey: string;
  /** Backoff bounds in ms (default 250 … 30,000). */
  readonly backoff?: { readonly baseMs: number; readonly maxMs: number };
  /** How long `close` keeps trying to deliver what is queued (default 3 s); the rest stays on disk. */
  readonly closeGraceMs?: number;
  readonly dispatcher?: Dispatcher;
  /** Told about each failed attempt (no alert content: the reason only). */
  readonly onRetry?: (reason: string, queued: number) => void;
}

export interface WebhookSink extends AlertSink {
  queued(): number;
  /** Resolves once the queue is empty (tests, the bench). */
  drained(): Promise<void>;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms).unref());

export async function webhookSink(o: WebhookOptions): Promise<WebhookSink> {
  const name = `webhook ${o.url}`;
  const queue = new SealedQueue(o.queueFile, o.queueMax, o.keyring, o.stateKey);
  await queue.load();
  const dispatcher = o.dispatcher ?? createReloadingMtlsDispatcher({ certDir: o.certDir, expect: o.expect });
  const base = o.backoff?.baseMs ?? 250;
  const max = o.backoff?.maxMs ?? 30_000;
  let delay = base;
  let closing = false;
  let wake: (() => void) | null = null;
  let idle: (() => void)[] = [];
  /** Told after each delivery attempt (taken or failed): a sender waiting for room looks again. */
  const attempted: (() => void)[] = [];
  let failing = queue.length > 0; // unknown until the first attempt: a queue left on disk counts as not yet taken
  let signalClose = () => undefined as void;
  const closed = new Promise<void>((r) => (signalClose = r));

  const post = async (body: string): Promise<void> => {
    const res = await request(o.url, {
      method: "POST",
      dispatcher,
      headers: { "content-type": "application/json" },
      body,
      headersTimeout: 10_000,
      bodyTimeout: 10_000,
    });
    await res.body.dump();
    if (res.statusCode < 200 || res.statusCode >= 300) throw new Error(`HTTP ${res.statusCode}`);
  };

  /** The delivery loop: the head of the queue until it is taken, then the next; waits when empty. */
  const loop = (async () => {
    while (!closing || queue.length > 0) {
      const head = queue.head();
      if (!head) {
        for (const f of idle.splice(0)) f();
        if (closing) break;
        await new Promise<void>((r) => (wake = r));
        continue;
      }
      try {
        await post(JSON.stringify(head));
        await queue.shift(head);
        delay = base;
        failing = false;
        for (const f of attempted.splice(0)) f();
      } catch (e) {
        failing = true;
        for (const f of attempted.splice(0)) f();
        o.onRetry?.((e as Error).message, queue.length);
        if (closing) break;
        // jitter: many monitors that lost the same sink do not retry in step
        const wait = Math.floor(delay / 2) + randomInt(Math.floor(delay / 2) + 1);
        delay = Math.min(max, delay * 2);
        await Promise.race([sleep(wait), closed]); // new alerts do not cut a backoff short (that would hammer a sink that is down)
      }
    }
  })();

  const kick = () => {
    const w = wake;
    wake = null;
    w?.();
  };

  return {
    name,
    queued: () => queue.length,
    drained: () => (queue.length === 0 ? Promise.resolve() : new Promise<void>((r) => idle.push(r))),
    async send(a) {
      // full, but the sink may be draining it right now (a restart with a backlog): wait for
      // the attempts under way before calling it full, as long as they succeed
      for (let i = 0; queue.length >= o.queueMax && i < o.queueMax + 1 && !closing; i++) {
        const next = new Promise<void>((r) => attempted.push(r));
        kick();
        await Promise.race([next, sleep(10_000)]);
        if (failing) break;
      }
      await queue.put(a, name);
      kick();
    },
    async close() {
      closing = true;
      signalClose();
      kick();
      await Promise.race([loop, sleep(o.closeGraceMs ?? 3000)]);
      idle = [];
      for (const f of attempted.splice(0)) f();
      if (!o.dispatcher) await dispatcher.close().catch(() => undefined);
    },
  };
}
