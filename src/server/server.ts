/**
 * `startKeyService`: the store, the bootstrap policy, token keys and the fastify app behind
 * the mTLS gate, listening. `pipeseal serve` and the tests use it.
 *
 * @example
 * const svc = await startKeyService(loadConfig("keyservice.yaml"));
 * console.log(svc.url);
 * await svc.close();
 */
import { listenError } from "../io/listen-error.js";
import { readFileSync } from "node:fs";
import os from "node:os";
import type { FastifyInstance } from "fastify";
import { KeystoreError, UsageError } from "../errors.js";
import { Pkcs11RootKey, describeKeystoreRoot, readPkcs11Pin } from "../keys/pkcs11/index.js";
import type { Server as HttpsServer } from "node:https";
import { mtlsServerOptions } from "../pki/mtls/server-options.js";
import type { MtlsServer } from "../pki/mtls/server.js";
import { type AppOptions, buildApp } from "./app.js";
import { Authorizer } from "./authz.js";
import type { KeyServiceConfig, Pkcs11RootConfig } from "./config.js";
import { parsePolicy, type Policy } from "./policy/index.js";
import type { Service } from "./service.js";
import { openPostgresStore } from "./store/postgres.js";
import { openSqliteStore } from "./store/sqlite.js";
import type { KeyStore } from "./store/types.js";
import { type AnchorSchedule, scheduleAnchors } from "./anchor-schedule.js";
import { logTlsEvents } from "./tls-log.js";
import { tokenKeysFor } from "./token-keys.js";

export interface RunningKeyService {
  /** https://host:port */
  readonly url: string;
  readonly port: number;
  readonly keyringId: string;
  readonly app: FastifyInstance;
  readonly store: KeyStore;
  readonly authz: Authorizer;
  /** The mTLS gate (events: peerRejected, crlReloaded, crlExpired, reloadError; reload, setCrl). */
  readonly mtls: MtlsServer<HttpsServer>;
  /** Anchors on a schedule, when `audit.anchorEvery` is configured. */
  readonly anchors?: AnchorSchedule;
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
  /** The service log: refused peers with their reason, CRL and certificate reloads (tls-log.ts). */
  readonly log?: (line: string) => void;
  /** More routes behind the service's authentication (AppOptions.extend: the dashboard at /ui/). */
  readonly extend?: AppOptions["extend"];
}

/**
 * Opens the configured store, with its root key in an HSM when `root.pkcs11` says so (or,
 * for a sqlite keystore made with `pipeseal init --hsm`, with the CLI's PIN variables).
 * @throws KeystoreError(MASTER_KEY_UNAVAILABLE) for a wrong or missing PIN, a missing token or key — at start-up, before listening.
 */
export async function openConfiguredStore(config: KeyServiceConfig, passphrase?: string): Promise<KeyStore> {
  if (config.store.kind === "sqlite") return openSqlite(config.store.home, config.pkcs11, passphrase);
  const st = config.store;
  const pool = { connectionString: st.url, max: 32 };
  if (config.pkcs11) {
    const rootKey = openPostgresHsmRoot(config.pkcs11);
    try {
      return await openPostgresStore({ pool, root: { rootKey }, ...(st.create ? { create: true } : {}) });
    } catch (e) {
      rootKey.close();
      throw e;
    }
  }
  const root = st.home !== undefined ? { home: st.home } : passphrase !== undefined ? { passphrase } : null;
  if (root === null)
    throw new UsageError("INVALID_ARGUMENT", "keyservice config: a postgres store needs store.home (the folder of master.key), root.pkcs11, or a passphrase");
  return openPostgresStore({ pool, root, ...(st.create ? { create: true } : {}) });
}

async function openSqlite(home: string, pkcs11: Pkcs11RootConfig | undefined, passphrase: string | undefined): Promise<KeyStore> {
  const hsm = describeKeystoreRoot(home)?.source === "pkcs11";
  if (!hsm) {
    if (pkcs11)
      throw new UsageError(
        "INVALID_ARGUMENT",
        `keyservice config: root.pkcs11 is given, but the keystore in ${home} does not keep its root in an HSM (made without pipeseal init --hsm)`,
      );
    return openSqliteStore({ home, ...(passphrase !== undefined ? { passphrase } : {}) });
  }
  const given = pkcs11 ?? { pin: { default: true } as const, create: false };
  return openSqliteStore({
    home,
    pkcs11: {
      pin: pinOf(given),
      ...(given.module !== undefined ? { module: given.module } : {}),
      ...(given.token !== undefined ? { token: given.token } : {}),
      ...(given.slot !== undefined ? { slot: given.slot } : {}),
    },
  });
}

/** The PostgreSQL store's root in the token; with `create`, generated there on first start (an existing key is opened, never replaced). */
function openPostgresHsmRoot(c: Pkcs11RootConfig): Pkcs11RootKey {
  const login = {
    module: c.module!,
    pin: pinOf(c),
    ...(c.token !== undefined ? { token: c.token } : {}),
    ...(c.slot !== undefined ? { slot: c.slot } : {}),
    ...(c.keyLabel !== undefined ? { keyLabel: c.keyLabel } : {}),
  };
  if (!c.create) return Pkcs11RootKey.open(login);
  try {
    return Pkcs11RootKey.generate(login);
  } catch (e) {
    // the label is taken: a later start of the same service (the store's check value still refuses another key)
    if (e instanceof KeystoreError && e.code === "KEYSTORE_EXISTS") return Pkcs11RootKey.open(login);
    throw e;
  }
}

/** The PIN, from where the config says; the default is the CLI's rules (PIPESEAL_PKCS11_PIN_FILE, …). */
function pinOf(c: Pkcs11RootConfig): string {
  const pin = c.pin;
  if ("file" in pin) return readPkcs11Pin(pin.file);
  if ("inline" in pin) return pin.inline;
  if ("default" in pin) return readPkcs11Pin();
  const v = process.env[pin.env];
  if (v === undefined || v === "")
    throw new KeystoreError("MASTER_KEY_UNAVAILABLE", `root.pkcs11.pinEnv names ${pin.env}, which is not set in the service's environment`);
  return v;
}

export async function startKeyService(config: KeyServiceConfig, options: StartOptions = {}): Promise<RunningKeyService> {
  const bootstrap: Policy | null = config.policyFile ? parsePolicy(readFileSync(config.policyFile, "utf8")) : null;
  const mtls = mtlsServerOptions({
    certDir: config.certDir,
    allow: config.allow,
    clientCertOptional: config.tokensWithoutCertificate,
    ...(config.crlFile !== undefined ? { crlFile: config.crlFile, crlExpired: config.crlExpired } : {}),
    ...(options.now ? { now: options.now } : {}),
  });
  const store = options.store ?? (await openConfiguredStore(config, options.passphrase));
  try {
    const now = options.now ?? Date.now;
    const authz = new Authorizer(store, bootstrap, { now });
    await authz.refresh(true);
    const keyringId = config.keyringId ?? `ks:${config.host === "0.0.0.0" || config.host === "::" ? os.hostname() : config.host}`;
    const svc: Service = {
      store,
      authz,
      tokens: await tokenKeysFor(store, { now }),
      keyringId,
      now,
      tokenTtlSeconds: config.tokenTtlSeconds,
      tokensWithoutCertificate: config.tokensWithoutCertificate ? { allow: config.allow } : null,
      certificateRevoked: mtls.revokes,
    };
    const app = buildApp(svc, {
      serverFactory: mtls.serverFactory,
      ...(options.noop ? { noop: true } : {}),
      ...(options.onInternalError ? { onInternalError: options.onInternalError } : {}),
      ...(options.extend ? { extend: options.extend } : {}),
    });
    await app.ready();
    const gate = mtls.mtls();
    // unreachable: fastify made its server with our serverFactory
    if (!gate) throw new UsageError("INVALID_ARGUMENT", "the key service's server was not made by the mTLS gate");
    if (options.log) logTlsEvents(gate, options.log);
    // the first anchor before the first request: a folder that cannot be written fails the start
    const anchors = config.anchors ? await scheduleAnchors(store, { ...config.anchors, ...(options.log ? { log: options.log } : {}) }) : undefined;
    await app.listen({ host: config.host, port: config.port }).catch(async (e: unknown) => {
      await anchors?.stop();
      await app.close().catch(() => undefined);
      throw listenError(e, config.host, config.port);
    });
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
      mtls: gate,
      ...(anchors ? { anchors } : {}),
      async close() {
        await app.close();
        await anchors?.stop();
        await store.close();
      },
    };
  } catch (e) {
    await store.close();
    throw e;
  }
}
