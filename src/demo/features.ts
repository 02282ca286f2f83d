/**
 * Stage 4, feature store and RAG: the features as Parquet, sealed (the feature store); the
 * numeric training shards, sealed, for the training job to read through the gateway; and the
 * redacted support texts with a deterministic small embedding (feature hashing, no model
 * download) in the encrypted corpus, with one retrieval query, audited.
 */
import { mkdirSync, readFileSync } from "node:fs";
import path from "node:path";
import { parquetReadObjects } from "hyparquet";
import { ByteWriter, ParquetWriter } from "hyparquet-writer";
import { openBuffer } from "../envelope/buffer.js";
import { openCorpus } from "../fields/corpus/index.js";
import { type Demo, check } from "./context.js";
import { KEYS } from "./keys.js";
import { sealTo } from "./seal-to.js";
import type { ProtectedEvent } from "./process.js";
import { embed, EMBEDDING_DIM } from "./embedding.js";

export const SHARDS = 3;
/** Floats per training record: visits, spend, tickets (scaled to about 0..1) and the label. */
export const RECORD_FLOATS = 4;

/** The model's inputs, scaled: what training reads and inference computes from a request. */
export function featureVector(e: Pick<ProtectedEvent, "visits" | "spend" | "tickets">): [number, number, number] {
  return [e.visits / 30, e.spend / 500, e.tickets / 5];
}

async function parquet(rows: readonly ProtectedEvent[]): Promise<Buffer> {
  const columns: [string, "BYTE_ARRAY" | "DOUBLE" | "INT32", (r: ProtectedEvent) => unknown][] = [
    ["id", "BYTE_ARRAY", (r) => r.id],
    ["email", "BYTE_ARRAY", (r) => r.email],
    ["card", "BYTE_ARRAY", (r) => r.card],
    ["country", "BYTE_ARRAY", (r) => r.country],
    ["visits", "INT32", (r) => r.visits],
    ["spend", "DOUBLE", (r) => r.spend],
    ["tickets", "INT32", (r) => r.tickets],
    ["churned", "INT32", (r) => r.churned],
  ];
  const bw = new ByteWriter();
  const schema = [
    { name: "root", num_children: columns.length },
    ...columns.map(([name, type]) => ({ name, repetition_type: "REQUIRED", type, ...(type === "BYTE_ARRAY" ? { converted_type: "UTF8" } : {}) })),
  ];
  const w = new ParquetWriter({ writer: bw, schema: schema as never });
  await w.write({ columnData: columns.map(([name, , get]) => ({ name, data: rows.map(get) as never })), rowGroupSize: rows.length });
  await w.finish();
  return Buffer.from(new Uint8Array(bw.buffer, 0, bw.index));
}

function shard(rows: readonly ProtectedEvent[]): Buffer {
  const b = Buffer.alloc(rows.length * RECORD_FLOATS * 4);
  rows.forEach((r, i) => [...featureVector(r), r.churned].forEach((v, j) => b.writeFloatLE(v, (i * RECORD_FLOATS + j) * 4)));
  return b;
}

export async function featuresStage(d: Demo): Promise<void> {
  const rows = d.facts.processed as ProtectedEvent[];
  const etl = await d.data("etl");
  mkdirSync(d.dir.features, { recursive: true, mode: 0o700 });
  const table = await parquet(rows);
  const featureFile = path.join(d.dir.features, "customers.parquet.pseal");
  await sealTo(etl, featureFile, table, KEYS.features, { stage: "features", table: "customers" });
  table.fill(0);
  // read back as a consumer would: decrypted in memory, parsed as Parquet
  const back = await openBuffer(etl, readFileSync(featureFile), { path: featureFile });
  const ab = new Uint8Array(back).buffer;
  const parsed = (await parquetReadObjects({ file: ab })) as Record<string, unknown>[];
  back.fill(0);
  check(parsed.length === rows.length && parsed[6]?.email === rows[6]?.email, "features: the sealed Parquet must read back");
  d.say(`feature table: ${rows.length} rows × 8 columns as Parquet, sealed (stores/features/customers.parquet.pseal, ${KEYS.features}); read back in memory`);

  mkdirSync(d.dir.training, { recursive: true, mode: 0o700 });
  const per = Math.ceil(rows.length / SHARDS);
  for (let s = 0; s < SHARDS; s++) {
    const data = shard(rows.slice(s * per, (s + 1) * per));
    await sealTo(
      etl,
      path.join(d.dir.training, "train", `shard-${s}.f32.pseal`),
      data,
      KEYS.training,
      { stage: "training", dataset: "churn-features", shard: String(s) },
      4096,
    );
  }
  d.facts.shards = Array.from({ length: SHARDS }, (_, s) => `/train/shard-${s}.f32`);
  d.say(`${SHARDS} training shards (float32 records) sealed under ${KEYS.training} for the gateway`);

  mkdirSync(d.dir.corpus, { recursive: true, mode: 0o700 });
  // the corpus keeps its subject keys in the keystore's own tables, so it opens the keystore even with --service
  const corpus = await openCorpus(await d.as("etl"), {
    file: path.join(d.dir.corpus, "corpus.db"),
    name: "support",
    create: { keyName: KEYS.corpus, vectors: "encrypted", filterFields: ["country"] },
  });
  try {
    await corpus.add(rows.map((r) => ({ id: r.id, text: r.text, metadata: { country: r.country }, vector: embed(r.text) })));
    const question = "I cannot log in to my account";
    const hits = await corpus.retrieve({ vector: embed(question), filter: { country: "DE" }, k: 3, onBehalfOf: "support-agent" });
    check(hits.chunks.length === 3 && hits.chunks.every((c) => c.metadata.country === "DE"), "RAG: the retrieval must return 3 chunks from the filter");
    check(hits.chunks[0].text.includes("log in"), "RAG: the best chunk must be about logging in");
    d.say(`RAG corpus: ${rows.length} redacted support texts, text and ${EMBEDDING_DIM}-dim vectors encrypted (${KEYS.corpus}), country as a blind index`);
    d.say(
      `query "${question}" {country=DE}: top ${hits.chunks.length} of ${hits.scanned} scanned, best ${hits.chunks[0].score?.toFixed(2)}; the retrieval is an audit record`,
    );
  } finally {
    corpus.close();
  }
  d.row({
    stage: "feature store & RAG",
    atRest: `Parquet sealed (${KEYS.features}); corpus text+vectors encrypted (${KEYS.corpus})`,
    inTransit: "in process",
    inUse: "decrypted in memory per query, audited",
  });
}
