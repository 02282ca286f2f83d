/**
 * `startKeyService`: the store, the bootstrap policy, token keys and the fastify app behind
 * the mTLS gate, listening. `pipeseal serve` and the tests use it.
 *
 * @example
 * const svc = await startKeyService(loadConfig("keyservice.yaml"));
 * console.log(svc.url);
 * await svc.close();
 */
import { readFileSync } from "node:fs";
import os from "node:os";
import type { FastifyInstance } from "fastify";
import { UsageError } from "../errors.js";
import { mtlsServerOptions } from "../pki/mtls/server-options.js";
import { buildApp } from "./app.js";
import { Authorizer } from "./authz.js";
import type { KeyServiceConfig } from "./config.js";
import { parsePolicy, type Policy } from "./policy/index.js";
import type { Service } from "./service.js";
import { openPostgresStore } from "./store/postgres.js";
import { openSqliteStore } from "./store/sqlite.js";
import type { KeyStore } from "./store/types.js";
import { tokenKeysFor } from "./token-keys.js";

export interface RunningKeyService {
  /** https://host:port */
  readonly url: string;
  readonly port: number;
  readonly keyringId: string;
  readonly app: FastifyInstance;
  readonly store: KeyStore;
  readonly authz: Authorizer;
  close(): Promise<void>;
}

export interface StartOptions {
  /** Use this store instead of opening the configured one (tests, custom stores). The service closes it. */
  readonly store?: KeyStore;
  /** Add GET /v1/noop (benchmark baseline). */
  readonly noop?: boolean;
  readonly now?: () => number;
  readonly onInternalError?: (e: unknown) => void;
  /** Passphrase of a passphrase-protected keystore. */
  readonly passphrase?: string;
}

export async function openConfiguredStore(config: KeyServiceConfig, passphrase?: string): Promise<KeyStore> {
  if (config.store.kind === "sqlite") return openSqliteStore({ home: config.store.home, ...(passphrase !== undefined ? { passphrase } : {}) });
  const st = config.store;
  const root = st.home !== undefined ? { home: st.home } : passphrase !== undefined ? { passphrase } : null;
  if (root === null) throw new UsageError("INVALID_ARGUMENT", "keyservice config: a postgres store needs store.home (the folder of master.key) or a passphrase");
  return openPostgresStore({ pool: { connectionString: st.url, max: 32 }, root, ...(st.create ? { create: true } : {}) });
}

export async function startKeyService(config: KeyServiceConfig, options: StartOptions = {}): Promise<RunningKeyService> {
  const bootstrap: Policy | null = config.policyFile ? parsePolicy(readFileSync(config.policyFile, "utf8")) : null;
  const mtls = mtlsServerOptions({ certDir: config.certDir, allow: config.allow });
  const store = options.store ?? (await openConfiguredStore(config, options.passphrase));
  try {
    const now = options.now ?? Date.now;
    const authz = new Authorizer(store, bootstrap, { now });
    await authz.refresh(true);
    const keyringId = config.keyringId ?? `ks:${config.host === "0.0.0.0" || config.host === "::" ? os.hostname() : config.host}`;
    const svc: Service = { store, authz, tokens: await tokenKeysFor(store), keyringId, now, tokenTtlSeconds: config.tokenTtlSeconds };
    const app = buildApp(svc, {
      serverFactory: mtls.serverFactory as never,
      ...(options.noop ? { noop: true } : {}),
      ...(options.onInternalError ? { onInternalError: options.onInternalError } : {}),
    });
    await app.listen({ host: config.host, port: config.port });
    const addr = app.server.address();
    const port = typeof addr === "object" && addr ? addr.port : config.port;
    const host = config.host.includes(":") ? `[${config.host}]` : config.host;
    return {
      url: `https://${host}:${port}`,
      port,
      keyringId,
      app,
      store,
      authz,
      async close() {
        await app.close();
        await store.close();
      },
    };
  } catch (e) {
    await store.close();
    throw e;
  }
}
