/**
 * Stage 7, inference: an HTTPS + mTLS scoring service loads the model from the registry into
 * memory (signature and digests verified before load; no plaintext file), answers a few
 * requests, and logs each request redacted into a sealed log sink with a short retention.
 */
import { FolderRegistry, loadArtifact, trustFromKeys } from "../artifacts/index.js";
import { createLogSink } from "../logs/index.js";
import { createMtlsDispatcher, createMtlsServer, mtlsFetch } from "../pki/index.js";
import { Redactor } from "../redact/index.js";
import { type Demo, check, spiffe } from "./context.js";
import { featureVector } from "./features.js";
import { KEYS } from "./keys.js";
import { MODEL, MODEL_VERSION } from "./registry.js";

const MAX_REQUEST = 16 * 1024;

interface Weights {
  readonly weights: number[];
  readonly bias: number;
}

export async function inferenceStage(d: Demo): Promise<void> {
  const trust = trustFromKeys({ [MODEL]: [d.facts.trustPem as string] });
  const me = await d.as("inference"); // the service's own identity loads (and is audited loading) the model
  const bytes = await loadArtifact(me, new FolderRegistry(d.dir.registry), `${MODEL}@${MODEL_VERSION}`, "weights.json", { trust });
  const model = JSON.parse(bytes.toString("utf8")) as Weights;
  bytes.fill(0);
  const sink = await createLogSink(d.ks, {
    dir: d.dir.logs("inference"),
    keyName: `${KEYS.logs}/inference`,
    retention: { payload: 86400_000, metadata: 7 * 86400_000 },
    timer: false,
  });
  const redactor = new Redactor();
  const score = (x: number[]) => 1 / (1 + Math.exp(-x.reduce((s, v, i) => s + v * model.weights[i], model.bias)));
  const srv = createMtlsServer({ certDir: d.dir.certs("inference"), allow: [spiffe(d, "scorer")], watch: false }, (req, res) => {
    const t0 = performance.now();
    const chunks: Buffer[] = [];
    let size = 0;
    req.on("data", (c: Buffer) => {
      size += c.length;
      if (size > MAX_REQUEST) return void req.destroy(); // a scoring request is a few numbers
      chunks.push(c);
    });
    req.on("end", () => {
      void (async () => {
        const raw = Buffer.concat(chunks).toString("utf8");
        const body = JSON.parse(raw) as { visits: number; spend: number; tickets: number; note?: string };
        const x = featureVector(body);
        if (!x.every(Number.isFinite)) return void res.writeHead(400).end();
        const p = score(x);
        await sink.write({ class: "payload", event: "request", request: redactor.redactText(raw) });
        await sink.write({ class: "metadata", event: "scored", ms: Number((performance.now() - t0).toFixed(2)) });
        res.writeHead(200, { "content-type": "application/json" }).end(JSON.stringify({ churn: Number(p.toFixed(4)) }));
      })().catch(() => res.writeHead(400).end());
    });
  });
  const addr = await srv.listen(0, "127.0.0.1");
  const url = `https://127.0.0.1:${addr.port}`;
  d.started({ name: "inference service", url, stop: () => srv.close() });
  d.facts.inferenceUrl = url;
  d.say(`inference service on ${url}: model verified (signature, digests) and decrypted into memory only; admits ${spiffe(d, "scorer")}`);
  const client = createMtlsDispatcher({ certDir: d.dir.certs("scorer"), expect: [spiffe(d, "inference")], servername: "localhost" });
  const answers: number[] = [];
  try {
    for (const q of [
      { visits: 2, spend: 10, tickets: 5, note: "angry customer help.desk@example.com" },
      { visits: 28, spend: 480, tickets: 0 },
      { visits: 10, spend: 120, tickets: 2 },
    ]) {
      const res = await mtlsFetch(client, `${url}/v1/score`, { method: "POST", body: JSON.stringify(q) });
      check(res.status === 200, `inference: answered ${res.status}`);
      answers.push(((await res.json()) as { churn: number }).churn);
    }
  } finally {
    await client.close();
    await sink.close();
  }
  check(answers[0] > answers[1], "inference: a customer with few visits and many tickets must score higher than a loyal one");
  d.say(`3 requests scored (churn ${answers.join(", ")}); payloads redacted into logs/inference (payload kept 1 day, metadata 7 days)`);
  d.row({ stage: "inference", atRest: "sealed request logs, 1-day retention", inTransit: "mTLS, scorer only", inUse: "model in memory only, verified first" });
}
