/**
 * A test pipeline on local folders with a real keystore: clean, or with known defects planted.
 * Each defect is meant to be found exactly once, by one check id (PLANTED).
 */
import { mkdirSync, utimesSync, writeFileSync } from "node:fs";
import https from "node:https";
import type { AddressInfo } from "node:net";
import path from "node:path";
import { decryptFile, encryptFile } from "../../src/envelope/files.js";
import { initKeystore, openKeystore, type LocalKeystore } from "../../src/keys/index.js";
import { initCa, issueCertificate, writeCertDir } from "../../src/pki/ca/index.js";
import type { ConnectionSpec, PipelineMap } from "../../src/posture/types.js";
import { tempDir } from "../helpers/keystore.js";

const DAY = 86400;

/** Defect → the check id that must find it, once. */
export const PLANTED = {
  plaintextCsv: "REST-PLAINTEXT",
  keyPastRotation: "KEYS-ROTATION-DUE",
  secretInNotebook: "LEAK-SECRET",
  expiredLogSegment: "RETENTION-EXPIRED",
  destroyedVersion: "REST-DESTROYED-VERSION",
  decryptedOutput: "PLAINTEXT-DECRYPTED-OUTPUT",
} as const;

/** The defect withEndpoints plants: an endpoint that does not require the client certificate the map asks for. */
export const PLANTED_TRANSIT = { endpointWithoutMtls: "TRANSIT-MTLS" } as const;

export interface TestPipeline {
  readonly root: string;
  readonly mapFile: string;
  readonly home: string;
  readonly ks: LocalKeystore;
}

export const MAP_YAML = `version: 1
name: test-pipeline
keys:
  home: ./keystore
plaintextMaxAge: 24h
stages:
  landing:
    stores:
      - { id: landing-raw, kind: folder, path: ./data/landing, classification: pii, key: datasets/raw, context: { stage: landing }, retention: 30d }
  processing:
    stores:
      - { id: archive, kind: folder, path: ./data/archive, classification: internal, key: datasets/archive }
    compute:
      - { id: etl, kind: job, path: ./jobs/etl }
  training:
    stores:
      - { id: training-sets, kind: glob, path: "./data/training/**/*.pseal", classification: pii, key: datasets/training, retention: 365d }
    compute:
      - { id: notebooks, kind: notebook, path: ./notebooks }
  registry:
    stores:
      - { id: models, kind: folder, path: ./models, classification: confidential, key: models/churn }
  monitoring:
    stores:
      - { id: inference-logs, kind: logs, path: ./logs/inference, classification: pii, key: logs/inference, retention: 7d }
`;

const write = (file: string, content: string | Buffer) => {
  mkdirSync(path.dirname(file), { recursive: true });
  writeFileSync(file, content);
};
const age = (file: string, days: number) => {
  const t = (Date.now() - days * DAY * 1000) / 1000;
  utimesSync(file, t, t);
};

async function seal(ks: LocalKeystore, root: string, rel: string, keyName: string, content: string, context: Record<string, string> = {}): Promise<string> {
  const plain = path.join(root, ".src-" + rel.replace(/\//g, "_"));
  write(plain, content);
  const out = path.join(root, rel);
  mkdirSync(path.dirname(out), { recursive: true });
  await encryptFile(ks, plain, out, { keyName, context });
  const { rmSync } = await import("node:fs");
  rmSync(plain);
  return out;
}

/** Builds the pipeline under a fresh temp folder; `defects` plants every defect of PLANTED. */
export async function buildPipeline(defects: boolean): Promise<TestPipeline> {
  const root = tempDir("pipeseal-posture-");
  const home = path.join(root, "keystore");
  await initKeystore(home);
  const rotate = { rotateEverySeconds: 90 * DAY };
  if (defects) {
    // a key created 40 days ago with a 30-day period: past rotation
    const past = await openKeystore(home, { principal: "tester", now: () => Date.now() - 40 * DAY * 1000 });
    past.createKey("models/churn", { rotateEverySeconds: 30 * DAY });
    past.close();
  }
  const ks = await openKeystore(home, { principal: "tester" });
  if (!defects) ks.createKey("models/churn", rotate);
  for (const k of ["datasets/raw", "datasets/archive", "datasets/training", "logs/inference/payload"]) ks.createKey(k, rotate);

  await seal(ks, root, "data/landing/customers-2024.csv.pseal", "datasets/raw", "id,segment\n1,a\n2,b\n", { stage: "landing" });
  await seal(ks, root, "data/landing/orders.csv.pseal", "datasets/raw", "order,total\n1,10\n", { stage: "landing" });
  await seal(ks, root, "data/training/2024/train.parquet.pseal", "datasets/training", "PAR1 not really parquet");
  write(path.join(root, "data/training/README.md"), "training sets live here (not matched by the glob)\n");
  await seal(ks, root, "models/churn.onnx.pseal", "models/churn", "onnx bytes");
  await seal(ks, root, "logs/inference/payload-00000001.jsonl.pseal", "logs/inference/payload", '{"score":0.4}\n', { stream: "inference" });
  write(path.join(root, "logs/inference/log.json"), JSON.stringify({ format: 1, stream: "inference" }));
  write(path.join(root, "jobs/etl/run.py"), "import pandas as pd\nprint('loading')\n");
  write(path.join(root, "notebooks/explore.ipynb"), notebook(["import pandas as pd", "df = pd.read_csv('x')"]));
  mkdirSync(path.join(root, "data/archive"), { recursive: true });
  if (!defects) await seal(ks, root, "data/archive/2023.csv.pseal", "datasets/archive", "old,rows\n");

  if (defects) {
    write(path.join(root, "data/landing/export.csv"), "id,segment\n7,c\n8,d\n9,e\n"); // plaintext CSV in the landing zone
    const secret = "ghp_" + "A1b2C3d4E5f6G7h8I9j0K1l2M3n4O5p6Q7r8";
    write(path.join(root, "notebooks/train.ipynb"), notebook([`token = "${secret}"`, "print('ok')"])); // a secret in a notebook
    const old = await seal(ks, root, "logs/inference/payload-00000000.jsonl.pseal", "logs/inference/payload", '{"score":0.1}\n', { stream: "inference" });
    age(old, 20); // an expired log segment (retention 7d)
    await seal(ks, root, "data/archive/2023.csv.pseal", "datasets/archive", "old,rows\n"); // under v1...
    ks.rotateKey("datasets/archive");
    ks.destroyVersion("datasets/archive", 1); // ...which is destroyed
    const sealed = path.join(root, "data/landing/customers-2024.csv.pseal");
    const out = path.join(root, "data/landing/customers-2024.csv");
    await decryptFile(ks, sealed, out, { path: sealed }); // a decrypted output left on disk
    age(out, 3);
  }
  write(path.join(root, "pipeline.yaml"), MAP_YAML);
  return { root, mapFile: path.join(root, "pipeline.yaml"), home, ks };
}

/**
 * Real TLS endpoints on loopback for the map's connections, with certificates from a pipeseal CA
 * in the pipeline's keystore: `features → training` requires client certificates; `ingestion →
 * landing` does too, unless `defects`, when it accepts anyone. Call close() when done (the
 * servers live in this process, so the checks must run in it too, not in a spawned CLI).
 */
export async function withEndpoints(p: TestPipeline, map: PipelineMap, defects: boolean): Promise<{ map: PipelineMap; close: () => void }> {
  await initCa(p.ks, { trustDomain: "acme.internal" });
  const cert = await issueCertificate(p.ks, { service: "gateway", env: "prod", ip: ["127.0.0.1"], server: true });
  writeFileSync(path.join(p.root, "ca.pem"), cert.caPem);
  await writeCertDir(path.join(p.root, "client"), await issueCertificate(p.ks, { service: "posture", env: "prod", client: true, ttlSeconds: 3600 }));
  const servers: https.Server[] = [];
  const start = async (requireClientCert: boolean) => {
    const s = https.createServer(
      { cert: cert.certPem, key: cert.keyPem!, ...(requireClientCert ? { requestCert: true, rejectUnauthorized: true, ca: cert.caPem } : {}) },
      (_q, res) => res.end("ok"),
    );
    s.on("tlsClientError", () => {});
    await new Promise<void>((r) => s.listen(0, "127.0.0.1", r));
    servers.push(s);
    return `https://127.0.0.1:${(s.address() as AddressInfo).port}`;
  };
  const conn = (id: string, from: ConnectionSpec["from"], to: ConnectionSpec["to"], url: string): ConnectionSpec => ({
    id,
    from,
    to,
    url,
    mtls: true,
    classification: "pii",
    ca: path.join(p.root, "ca.pem"),
    certDir: path.join(p.root, "client"),
  });
  const connections = [conn("features-to-training", "features", "training", await start(true)), conn("ingest", "ingestion", "landing", await start(!defects))];
  return { map: { ...map, connections }, close: () => servers.forEach((s) => (s.closeAllConnections(), s.close())) };
}

export function notebook(cells: string[]): string {
  return JSON.stringify(
    {
      nbformat: 4,
      nbformat_minor: 5,
      metadata: {},
      cells: cells.map((c) => ({ cell_type: "code", metadata: {}, execution_count: null, outputs: [], source: [c] })),
    },
    null,
    1,
  );
}
