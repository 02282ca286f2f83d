/**
 * `createReloadingMtlsDispatcher`: a dispatcher that swaps in a fresh mTLS Agent when the
 * client certificate in its cert dir is renewed, and closes the old one gracefully (requests
 * in flight finish on the old connections).
 */
import { X509Certificate } from "node:crypto";
import { type Agent, Dispatcher } from "undici";
import { PipesealError, UsageError, isPipesealError } from "../../errors.js";
import { type MtlsClientOptions, agentFor, planClient, type ClientPlan } from "./dispatcher.js";
import { certPaths, loadMaterial } from "./material.js";
import { type FileWatcher, type WatchOptions, watchFiles } from "./watch.js";

export type ReloadingMtlsClientOptions = MtlsClientOptions & {
  readonly certDir: string;
  readonly watch?: WatchOptions;
  /** Called after a renewed certificate was taken (new connections use it). */
  readonly onReload?: (e: { serialNumber: string }) => void;
  /** Called when renewed files are not usable yet; the previous Agent stays. */
  readonly onReloadError?: (e: PipesealError) => void;
};

/** A dispatcher whose mTLS certificate follows its cert dir. */
export class ReloadingMtlsDispatcher extends Dispatcher {
  readonly #plan: ClientPlan;
  readonly #options: ReloadingMtlsClientOptions;
  #agent: Agent;
  #watcher: FileWatcher;
  #closed = false;

  /** @internal use createReloadingMtlsDispatcher */
  constructor(options: ReloadingMtlsClientOptions) {
    super();
    if (typeof options.certDir !== "string") throw new UsageError("INVALID_ARGUMENT", "createReloadingMtlsDispatcher needs certDir");
    this.#options = options;
    this.#plan = planClient(options);
    this.#agent = agentFor(this.#plan, loadMaterial({ certDir: options.certDir }));
    const p = certPaths(options.certDir);
    this.#watcher = watchFiles(options.certDir, [p.cert, p.key, p.ca], () => this.reload(), options.watch);
  }

  /** The Agent new requests go to. */
  get current(): Agent {
    return this.#agent;
  }

  /** Re-reads the cert dir now; false (and onReloadError) if the files are not usable. */
  reload(): boolean {
    if (this.#closed) return false;
    try {
      const m = loadMaterial({ certDir: this.#options.certDir });
      const old = this.#agent;
      this.#agent = agentFor(this.#plan, m);
      // Agent.close lets queued and running requests finish, then ends its sockets
      old.close().catch(() => {});
      this.#options.onReload?.({ serialNumber: new X509Certificate(m.cert).serialNumber });
      return true;
    } catch (e) {
      this.#options.onReloadError?.(isPipesealError(e) ? e : new PipesealError("CERT_MALFORMED", String(e), { cause: e }));
      return false;
    }
  }

  override dispatch(options: Dispatcher.DispatchOptions, handler: Dispatcher.DispatchHandlers): boolean {
    return this.#agent.dispatch(options, handler);
  }

  override close(): Promise<void>;
  override close(callback: () => void): void;
  override close(callback?: () => void): Promise<void> | void {
    this.#closed = true;
    this.#watcher.close();
    const p = this.#agent.close();
    if (callback) void p.then(callback, callback);
    else return p;
  }

  override destroy(): Promise<void>;
  override destroy(err: Error | null): Promise<void>;
  override destroy(callback: () => void): void;
  override destroy(err: Error | null, callback: () => void): void;
  override destroy(a?: Error | null | (() => void), b?: () => void): Promise<void> | void {
    this.#closed = true;
    this.#watcher.close();
    const err = typeof a === "function" ? null : (a ?? null);
    const cb = typeof a === "function" ? a : b;
    const p = this.#agent.destroy(err);
    if (cb) void p.then(cb, cb);
    else return p;
  }
}

/**
 * Like `createMtlsDispatcher`, but watches `certDir` (fs.watch plus a stat poll) and builds
 * a fresh Agent when `pipeseal ca renew` replaces the files; the old Agent is closed
 * gracefully, so requests in flight complete.
 *
 * @example
 * ```ts
 * const dispatcher = createReloadingMtlsDispatcher({ certDir: "certs/trainer", expect: ["spiffe://acme/prod/*"] });
 * await mtlsFetch(dispatcher, "https://registry.internal/v2/models");
 * await dispatcher.close();
 * ```
 * @throws as createMtlsDispatcher
 */
export function createReloadingMtlsDispatcher(options: ReloadingMtlsClientOptions): ReloadingMtlsDispatcher {
  return new ReloadingMtlsDispatcher(options);
}
