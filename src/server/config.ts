/**
 * `keyservice.yaml`: what `pipeseal serve` needs. Strict: unknown fields are refused.
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
import { parseYaml } from "../io/yaml.js";
import { UsageError } from "../errors.js";
import { parseDuration } from "../io/duration.js";
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
const TOP = ["listen", "certDir", "allow", "keyringId", "store", "policy", "tokenTtl", "tokensWithoutCertificate", "root", "tls", "audit"];
const PKCS11 = ["module", "token", "slot", "keyLabel", "pinFile", "pinEnv", "pin", "allowInlinePin", "create"];

function only(obj: Record<string, unknown>, keys: string[], where: string): void {
  for (const k of Object.keys(obj)) if (!keys.includes(k)) throw bad(`unknown field ${where}${k}`);
}

function duration(v: unknown): number {
  if (typeof v === "number" && Number.isInteger(v)) return v;
  const m = typeof v === "string" ? /^(\d+)(s|m)$/.exec(v) : null;
  if (!m) throw bad(`tokenTtl must be like 900s or 15m`);
  return Number(m[1]) * (m[2] === "m" ? 60 : 1);
}

/** Parses config text; relative paths resolve against `baseDir` (the config file's folder); `file` names it in errors. */
export function parseConfig(text: string, baseDir: string, file = "keyservice.yaml"): KeyServiceConfig {
  let raw: unknown;
  try {
    raw = parseYaml(text, file);
  } catch (e) {
    throw bad((e as Error).message);
  }
  if (raw === null || typeof raw !== "object" || Array.isArray(raw)) throw bad("expected a mapping");
  const c = raw as Record<string, unknown>;
  only(c, TOP, "");
  const listen = (c.listen ?? {}) as Record<string, unknown>;
  if (typeof listen !== "object" || Array.isArray(listen)) throw bad("listen must be { host, port }");
  only(listen, ["host", "port"], "listen.");
  const host = listen.host ?? "127.0.0.1";
  const port = listen.port ?? 8443;
  if (typeof host !== "string" || host === "") throw bad("listen.host must be a host name or address");
  if (typeof port !== "number" || !Number.isInteger(port) || port < 0 || port > 65535) throw bad("listen.port must be 0-65535");
  if (typeof c.certDir !== "string" || c.certDir === "") throw bad("certDir is required");
  if (!Array.isArray(c.allow) || c.allow.length === 0 || !c.allow.every((a) => typeof a === "string"))
    throw bad("allow must be a non-empty list of SPIFFE ID patterns");
  if (c.keyringId !== undefined && (typeof c.keyringId !== "string" || !/^[A-Za-z0-9:._-]{1,128}$/.test(c.keyringId) || c.keyringId === "local")) {
    throw bad(`keyringId must be 1-128 characters of A-Z a-z 0-9 : . _ - and not "local"`);
  }
  const st = (c.store ?? { kind: "sqlite" }) as Record<string, unknown>;
  if (typeof st !== "object" || Array.isArray(st)) throw bad("store must be { kind: sqlite, home } or { kind: postgres, url }");
  const abs = (p: string) => path.resolve(baseDir, p);
  let store: KeyServiceConfig["store"];
  if (st.kind === "sqlite" || st.kind === undefined) {
    only(st, ["kind", "home"], "store.");
    store = { kind: "sqlite", home: abs(typeof st.home === "string" ? st.home : ".pipeseal") };
  } else if (st.kind === "postgres") {
    only(st, ["kind", "url", "home", "create"], "store.");
    if (st.create !== undefined && typeof st.create !== "boolean") throw bad("store.create must be true or false");
    if (typeof st.url !== "string" || !/^postgres(ql)?:\/\//.test(st.url)) throw bad("store.url must be a postgres:// URL");
    store = { kind: "postgres", url: st.url, ...(typeof st.home === "string" ? { home: abs(st.home) } : {}), ...(st.create === true ? { create: true } : {}) };
  } else throw bad(`store.kind must be sqlite or postgres`);
  if (c.policy !== undefined && typeof c.policy !== "string") throw bad("policy must be a file path");
  const tokenTtlSeconds = c.tokenTtl === undefined ? MAX_TOKEN_TTL_SECONDS : duration(c.tokenTtl);
  if (tokenTtlSeconds < 1 || tokenTtlSeconds > MAX_TOKEN_TTL_SECONDS) throw bad(`tokenTtl must be between 1s and ${MAX_TOKEN_TTL_SECONDS / 60}m`);
  if (c.tokensWithoutCertificate !== undefined && typeof c.tokensWithoutCertificate !== "boolean") throw bad("tokensWithoutCertificate must be true or false");
  const pkcs11 = parseRoot(c.root, store, abs);
  const tls = parseTls(c.tls, abs);
  const anchors = parseAudit(c.audit, abs);
  return {
    host,
    port,
    certDir: abs(c.certDir),
    allow: c.allow,
    keyringId: c.keyringId,
    store,
    policyFile: typeof c.policy === "string" ? abs(c.policy) : undefined,
    tokenTtlSeconds,
    tokensWithoutCertificate: c.tokensWithoutCertificate === true,
    pkcs11,
    ...tls,
    anchors,
  };
}

/** `audit: { anchorEvery, anchorDir }`: both or neither. */
function parseAudit(v: unknown, abs: (p: string) => string): KeyServiceConfig["anchors"] {
  if (v === undefined) return undefined;
  if (v === null || typeof v !== "object" || Array.isArray(v)) throw bad("audit must be a mapping ({ anchorEvery: 1h, anchorDir: <folder> })");
  const a = v as Record<string, unknown>;
  only(a, ["anchorEvery", "anchorDir"], "audit.");
  if (typeof a.anchorDir !== "string" || a.anchorDir === "") throw bad("audit.anchorDir must be a folder path (where the signed anchors are written)");
  if (typeof a.anchorEvery !== "string") throw bad("audit.anchorEvery must be a duration such as 15m or 1h");
  let everySeconds: number;
  try {
    everySeconds = parseDuration(a.anchorEvery);
  } catch {
    throw bad(`audit.anchorEvery must be a duration such as 15m or 1h, not ${JSON.stringify(a.anchorEvery.slice(0, 20))}`);
  }
  return { dir: abs(a.anchorDir), everySeconds };
}

/** `tls: { crl, crlExpired }`. */
function parseTls(v: unknown, abs: (p: string) => string): Pick<KeyServiceConfig, "crlFile" | "crlExpired"> {
  if (v === undefined) return { crlFile: undefined, crlExpired: "refuse" };
  if (v === null || typeof v !== "object" || Array.isArray(v)) throw bad("tls must be a mapping ({ crl: <file>, crlExpired: refuse | warn })");
  const t = v as Record<string, unknown>;
  only(t, ["crl", "crlExpired"], "tls.");
  if (t.crl !== undefined && (typeof t.crl !== "string" || t.crl === "")) throw bad("tls.crl must be a file path (written by `pipeseal ca crl -o <file>`)");
  if (t.crlExpired !== undefined && t.crlExpired !== "refuse" && t.crlExpired !== "warn") throw bad("tls.crlExpired must be refuse or warn");
  if (t.crlExpired !== undefined && t.crl === undefined) throw bad("tls.crlExpired needs tls.crl");
  return { crlFile: typeof t.crl === "string" ? abs(t.crl) : undefined, crlExpired: t.crlExpired ?? "refuse" };
}

function parseRoot(v: unknown, store: KeyServiceConfig["store"], abs: (p: string) => string): Pkcs11RootConfig | undefined {
  if (v === undefined) return undefined;
  if (v === null || typeof v !== "object" || Array.isArray(v)) throw bad("root must be { pkcs11: { … } }");
  only(v as Record<string, unknown>, ["pkcs11"], "root.");
  const p = (v as { pkcs11?: unknown }).pkcs11;
  if (p === null || typeof p !== "object" || Array.isArray(p)) throw bad("root.pkcs11 must be a mapping (module, token or slot, pinFile or pinEnv)");
  const o = p as Record<string, unknown>;
  only(o, PKCS11, "root.pkcs11.");
  const str = (k: string) => {
    if (o[k] !== undefined && (typeof o[k] !== "string" || o[k] === "")) throw bad(`root.pkcs11.${k} must be a non-empty string`);
    return o[k];
  };
  const [module, token, keyLabel, pinFile, pinEnv] = [str("module"), str("token"), str("keyLabel"), str("pinFile"), str("pinEnv")];
  if (o.slot !== undefined && (typeof o.slot !== "number" || !Number.isSafeInteger(o.slot) || o.slot < 0))
    throw bad("root.pkcs11.slot must be a slot ID (integer ≥ 0)");
  if (o.create !== undefined && typeof o.create !== "boolean") throw bad("root.pkcs11.create must be true or false");
  if (o.allowInlinePin !== undefined && typeof o.allowInlinePin !== "boolean") throw bad("root.pkcs11.allowInlinePin must be true or false");
  if (o.pin !== undefined && (typeof o.pin !== "string" || o.pin === "")) throw bad("root.pkcs11.pin must be a string");
  if (o.pin !== undefined && o.allowInlinePin !== true)
    throw bad(
      "root.pkcs11.pin: a PIN in the config file is refused (it travels with the file); use pinFile (mode 0600) or pinEnv, or set allowInlinePin: true for a throwaway token",
    );
  if ([pinFile, pinEnv, o.pin].filter((x) => x !== undefined).length > 1) throw bad("root.pkcs11: give one of pinFile, pinEnv, pin");
  if (pinEnv !== undefined && !/^[A-Za-z_][A-Za-z0-9_]{0,127}$/.test(pinEnv)) throw bad("root.pkcs11.pinEnv must be an environment variable name");
  const create = o.create === true;
  if (store.kind === "sqlite") {
    // the keystore recorded its token key (label and id) at `pipeseal init --hsm`; only the location may be overridden
    if (keyLabel !== undefined) throw bad("root.pkcs11.keyLabel is recorded in the sqlite keystore (pipeseal init --hsm --key-label); remove it here");
    if (create) throw bad("root.pkcs11.create is for a postgres store; a sqlite keystore gets its HSM root from `pipeseal init --hsm`");
  } else {
    if (module === undefined) throw bad("root.pkcs11.module is required with a postgres store");
    if (token === undefined && o.slot === undefined) throw bad("root.pkcs11 needs token (label) or slot with a postgres store");
    if (store.home !== undefined) throw bad("store.home and root.pkcs11 both name a root key; keep one");
  }
  return {
    ...(module !== undefined ? { module } : {}), // as given: a bare library name is for the loader's search path
    ...(token !== undefined ? { token } : {}),
    ...(o.slot !== undefined ? { slot: o.slot } : {}),
    ...(keyLabel !== undefined ? { keyLabel } : {}),
    pin: pinFile !== undefined ? { file: abs(pinFile) } : pinEnv !== undefined ? { env: pinEnv } : o.pin !== undefined ? { inline: o.pin } : { default: true },
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
