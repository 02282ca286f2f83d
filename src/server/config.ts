/**
 * `keyservice.yaml`: what `pipeseal serve` needs. Read by the strict reader against config-schema.ts:
 * unknown keys and wrong types are refused with `keyservice.yaml:LINE:COL: path: what`.
 *
 * ```yaml
 * listen: { host: 0.0.0.0, port: 8443 }
 * certDir: certs/prod/keys          # cert.pem, key.pem, ca.pem from `pipeseal ca issue keys --dns …`
 * allow: ["spiffe://acme.internal/*"]   # client identities let through the TLS gate; the policy decides the rest
 * keyringId: ks:keys.internal       # recorded in sealed-file headers by clients (default ks:<first DNS name or host>)
 * store: { kind: sqlite, home: .pipeseal }     # or { kind: postgres, url: postgres://…, home: <master.key folder>, create: true }
 * policy: policy.yaml               # bootstrap policy until one is approved through the API
 * tokenTtl: 15m                     # longest bearer-token lifetime (≤ 15m)
 * tokensWithoutCertificate: false   # true: a caller with no client certificate may use a bearer token alone
 * audit:
 *   anchorEvery: 1h                 # a signed anchor of the audit head on this schedule (and at start and shutdown)
 *   anchorDir: /var/lib/pipeseal/anchors   # one file per anchor, best on other storage than the database; also one log line each
 * tls:
 *   crl: crl.pem                    # `pipeseal ca crl -o crl.pem`: revoked client certificates get no answer; watched, reloaded within 10 s
 *   crlExpired: refuse              # past its nextUpdate: refuse every client of that CA (default), or warn and keep using it
 * root:                             # optional: the root key in an HSM (docs/hsm.md)
 *   pkcs11:
 *     module: /usr/lib/softhsm/libsofthsm2.so
 *     token: pipeseal                 # or slot: 0
 *     keyLabel: pipeseal-root         # postgres only (a keystore home records its own)
 *     pinFile: /etc/pipeseal/pin      # mode 0600; or pinEnv: NAME (the variable holding the PIN)
 *     create: true                    # postgres only: generate the keys in the token on first start
 * ```
 *
 * The PIN is never read from the YAML unless `allowInlinePin: true` says so (tests, demos):
 * config files travel (repositories, ConfigMaps, backups) where a PIN must not.
 */
import { readFileSync } from "node:fs";
import path from "node:path";
import { type YamlDocument, yamlReader } from "../io/yaml-schema.js";
import { UsageError } from "../errors.js";
import { parseDuration } from "../io/duration.js";
import { type Pkcs11File, SERVICE_CONFIG_SCHEMA, type ServiceFile } from "./config-schema.js";
import { MAX_TOKEN_TTL_SECONDS } from "./tokens.js";

export interface KeyServiceConfig {
  readonly host: string;
  readonly port: number;
  readonly certDir: string;
  readonly allow: readonly string[];
  readonly keyringId: string | undefined;
  readonly store:
    { readonly kind: "sqlite"; readonly home: string } | { readonly kind: "postgres"; readonly url: string; readonly home?: string; readonly create?: boolean };
  /** Policy YAML file (bootstrap), or undefined. */
  readonly policyFile: string | undefined;
  readonly tokenTtlSeconds: number;
  /**
   * Let callers that cannot hold a certificate in with a bearer token alone (minted over mTLS
   * by the identity it names, which the allow-list must still admit). Default false: every
   * connection presents a client certificate.
   */
  readonly tokensWithoutCertificate: boolean;
  /** The root key in a PKCS#11 token, or undefined (master.key / passphrase). */
  readonly pkcs11: Pkcs11RootConfig | undefined;
  /** `tls.crl`: the CRL file every client certificate is checked against, or undefined (no revocation check). */
  readonly crlFile: string | undefined;
  /** `tls.crlExpired`: what a CRL past its nextUpdate does (default refuse). */
  readonly crlExpired: "refuse" | "warn";
  /** `audit.anchorEvery` / `audit.anchorDir`: anchors of the audit head on a schedule (anchor-schedule.ts), or undefined. */
  readonly anchors: { readonly dir: string; readonly everySeconds: number } | undefined;
}

/** `root.pkcs11`: where the root key is and where its PIN comes from (never the PIN itself, unless inline was allowed). */
export interface Pkcs11RootConfig {
  readonly module?: string;
  readonly token?: string;
  readonly slot?: number;
  readonly keyLabel?: string;
  readonly pin: { readonly file: string } | { readonly env: string } | { readonly inline: string } | { readonly default: true };
  /** Generate the root keys in the token when it holds none with this label (PostgreSQL store only). */
  readonly create: boolean;
}

const bad = (msg: string) => new UsageError("INVALID_ARGUMENT", `keyservice config: ${msg}`);
const read = yamlReader<ServiceFile>(SERVICE_CONFIG_SCHEMA, (message) => bad(message));

/** Parses config text; relative paths resolve against `baseDir` (the config file's folder); `file` names it in errors. */
export function parseConfig(text: string, baseDir: string, file = "keyservice.yaml"): KeyServiceConfig {
  const doc = read(text, file);
  const c = doc.data;
  const abs = (p: string) => path.resolve(baseDir, p);
  const st = c.store ?? {};
  const store: KeyServiceConfig["store"] =
    st.kind === "postgres"
      ? { kind: "postgres", url: st.url, ...(st.home !== undefined ? { home: abs(st.home) } : {}), ...(st.create === true ? { create: true } : {}) }
      : { kind: "sqlite", home: abs(st.home ?? ".pipeseal") };
  const tokenTtlSeconds = c.tokenTtl === undefined ? MAX_TOKEN_TTL_SECONDS : ttlSeconds(c.tokenTtl);
  if (tokenTtlSeconds < 1 || tokenTtlSeconds > MAX_TOKEN_TTL_SECONDS) doc.fail(["tokenTtl"], `must be between 1s and ${MAX_TOKEN_TTL_SECONDS / 60}m`);
  if (c.tls?.crlExpired !== undefined && c.tls.crl === undefined) doc.fail(["tls", "crlExpired"], "needs tls.crl");
  return {
    host: c.listen?.host ?? "127.0.0.1",
    port: c.listen?.port ?? 8443,
    certDir: abs(c.certDir),
    allow: c.allow,
    keyringId: c.keyringId,
    store,
    policyFile: c.policy !== undefined ? abs(c.policy) : undefined,
    tokenTtlSeconds,
    tokensWithoutCertificate: c.tokensWithoutCertificate === true,
    pkcs11: c.root === undefined ? undefined : pkcs11Root(doc, c.root.pkcs11, store, abs),
    crlFile: c.tls?.crl !== undefined ? abs(c.tls.crl) : undefined,
    crlExpired: c.tls?.crlExpired ?? "refuse",
    anchors: c.audit === undefined ? undefined : { dir: abs(c.audit.anchorDir), everySeconds: anchorSeconds(doc, c.audit.anchorEvery) },
  };
}

/** `tokenTtl`: seconds as a number, or `900s` / `15m` (the schema admits only those). */
function ttlSeconds(v: string | number): number {
  if (typeof v === "number") return v;
  return Number(v.slice(0, -1)) * (v.endsWith("m") ? 60 : 1);
}

function anchorSeconds(doc: YamlDocument<ServiceFile>, every: string): number {
  try {
    return parseDuration(every);
  } catch {
    return doc.fail(["audit", "anchorEvery"], "must be a duration such as 15m or 1h, greater than zero");
  }
}

/** `root.pkcs11`: where the PIN comes from, and what each store lets the file say. */
function pkcs11Root(doc: YamlDocument<ServiceFile>, o: Pkcs11File, store: KeyServiceConfig["store"], abs: (p: string) => string): Pkcs11RootConfig {
  const at = (k: keyof Pkcs11File | undefined, message: string): never => doc.fail(["root", "pkcs11", ...(k === undefined ? [] : [k])], message);
  if (o.pin !== undefined && o.allowInlinePin !== true)
    at(
      "pin",
      "a PIN in the config file is refused (it travels with the file); use pinFile (mode 0600) or pinEnv, or set allowInlinePin: true for a throwaway token",
    );
  if ([o.pinFile, o.pinEnv, o.pin].filter((x) => x !== undefined).length > 1) at(undefined, "give one of pinFile, pinEnv, pin");
  const create = o.create === true;
  if (store.kind === "sqlite") {
    // the keystore recorded its token key (label and id) at `pipeseal init --hsm`; only the location may be overridden
    if (o.keyLabel !== undefined) at("keyLabel", "is recorded in the sqlite keystore (pipeseal init --hsm --key-label); remove it here");
    if (create) at("create", "is for a postgres store; a sqlite keystore gets its HSM root from `pipeseal init --hsm`");
  } else {
    if (o.module === undefined) at(undefined, "`module` is required with a postgres store");
    if (o.token === undefined && o.slot === undefined) at(undefined, "needs token (label) or slot with a postgres store");
    if (store.home !== undefined) at(undefined, "store.home and root.pkcs11 both name a root key; keep one");
  }
  return {
    ...(o.module !== undefined ? { module: o.module } : {}), // as given: a bare library name is for the loader's search path
    ...(o.token !== undefined ? { token: o.token } : {}),
    ...(o.slot !== undefined ? { slot: o.slot } : {}),
    ...(o.keyLabel !== undefined ? { keyLabel: o.keyLabel } : {}),
    pin:
      o.pinFile !== undefined
        ? { file: abs(o.pinFile) }
        : o.pinEnv !== undefined
          ? { env: o.pinEnv }
          : o.pin !== undefined
            ? { inline: o.pin }
            : { default: true },
    create,
  };
}

export function loadConfig(file: string): KeyServiceConfig {
  let text: string;
  try {
    text = readFileSync(file, "utf8");
  } catch {
    throw new UsageError("IO_ERROR", `cannot read ${file}`);
  }
  return parseConfig(text, path.dirname(path.resolve(file)), file);
}
