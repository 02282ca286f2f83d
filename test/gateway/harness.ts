/**
 * A real gateway on 127.0.0.1 for tests: a keystore with a CA (`pipeseal ca` library),
 * certificates written as `pipeseal ca issue` writes them, sealed shards under a root, and
 * an https client presenting a chosen certificate.
 */
import { randomBytes } from "node:crypto";
import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import https from "node:https";
import path from "node:path";
import { encryptFile } from "../../src/envelope/files.js";
import { type Gateway, type GatewayOptions, startGateway } from "../../src/gateway/index.js";
import { initKeystore, openKeystore, type LocalKeystore } from "../../src/keys/index.js";
import { initCa, issueCertificate, writeCertDir } from "../../src/pki/ca/index.js";
import { tempDir } from "../helpers/keystore.js";

export const TD = "acme.ml";
export const TRAINER = `spiffe://${TD}/prod/trainer-a`;

export interface World {
  dir: string;
  root: string;
  ks: LocalKeystore;
  certs: (name: string) => string;
  /** The CA root clients trust. */
  caPem: string;
  /** Issues a client certificate for `spiffe://acme.ml/<env>/<service>` into certs/<service>. */
  client(service: string, env?: string): Promise<string>;
  /** Seals `plain` at ROOT/<rel>.pseal (segment size 4 KiB unless given) and keeps the plaintext in memory. */
  seal(rel: string, plain: Buffer, options?: { context?: Record<string, string>; keyName?: string; segmentSize?: number }): Promise<string>;
}

export async function makeWorld(): Promise<World> {
  const dir = tempDir("pipeseal-gw-");
  const home = path.join(dir, "ks");
  await initKeystore(home);
  const ks = await openKeystore(home, { principal: "gateway-operator" });
  ks.createKey("datasets/raw");
  await initCa(ks, { name: "acme ML", trustDomain: TD });
  const certs = (name: string) => path.join(dir, "certs", name);
  const server = await issueCertificate(ks, { service: "gateway", env: "prod", dns: ["localhost"], ip: ["127.0.0.1"] });
  await writeCertDir(certs("gateway"), server);
  const root = path.join(dir, "root");
  mkdirSync(root, { recursive: true });
  return {
    dir,
    root,
    ks,
    certs,
    caPem: server.caPem,
    async client(service, env = "prod") {
      const c = await issueCertificate(ks, { service, env, client: true });
      await writeCertDir(certs(service), c);
      return certs(service);
    },
    async seal(rel, plain, o = {}) {
      const plainFile = path.join(dir, "plain-" + randomBytes(6).toString("hex"));
      writeFileSync(plainFile, plain);
      const out = path.join(root, `${rel}.pseal`);
      mkdirSync(path.dirname(out), { recursive: true });
      await encryptFile(ks, plainFile, out, {
        keyName: o.keyName ?? "datasets/raw",
        context: o.context ?? { stage: "training", dataset: "shards" },
        segmentSize: o.segmentSize ?? 4096,
      });
      return out;
    },
  };
}

export async function gateway(w: World, options: Partial<GatewayOptions> = {}): Promise<Gateway> {
  return startGateway({ root: w.root, keys: w.ks, tls: { certDir: w.certs("gateway"), watch: false }, allow: [`spiffe://${TD}/prod/trainer*`], ...options });
}

export interface Reply {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: Buffer;
  /** The body ended short of Content-Length (connection aborted). */
  aborted: boolean;
}

/** One request with the certificate folder `certDir` (or none). Resolves even when the transfer is cut. */
export function request(
  gw: Gateway,
  urlPath: string,
  o: { certDir?: string | null; method?: string; headers?: Record<string, string>; ca?: string } = {},
): Promise<Reply> {
  const ca = o.ca ?? (o.certDir ? readFileSync(path.join(o.certDir, "ca.pem"), "utf8") : undefined);
  return new Promise((resolve, reject) => {
    // a raw path, not a URL: the client must not normalise `..` away before the server sees it
    const req = https.request({
      host: "127.0.0.1",
      port: gw.address.port,
      path: urlPath,
      servername: "localhost",
      method: o.method ?? "GET",
      headers: o.headers ?? {},
      ca,
      ...(o.certDir ? { cert: readFileSync(path.join(o.certDir, "cert.pem")), key: readFileSync(path.join(o.certDir, "key.pem")) } : {}),
      agent: false,
    });
    req.on("response", (res) => {
      const chunks: Buffer[] = [];
      let aborted = false;
      res.on("data", (c: Buffer) => chunks.push(c));
      res.on("aborted", () => (aborted = true));
      res.on("error", () => (aborted = true));
      res.on("close", () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks), aborted: aborted || !res.complete }));
    });
    req.on("error", reject);
    req.end();
  });
}
