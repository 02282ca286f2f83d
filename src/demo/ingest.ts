/**
 * Stage 2, ingestion: an HTTPS + mTLS ingestion service (fastify over the transit helpers'
 * serverFactory: refused peers never reach fastify) takes batches of customer events from the
 * producer and seals each one, in memory, into the landing zone under the landing key with
 * its context (stage, source, batch). The plaintext events never touch the disk.
 */
import { mkdirSync, readdirSync } from "node:fs";
import path from "node:path";
import Fastify from "fastify";
import { createMtlsDispatcher, mtlsFetch, mtlsServerOptions, peerOf } from "../pki/index.js";
import { type Demo, check, spiffe } from "./context.js";
import { customerEvents } from "./data.js";
import { KEYS } from "./keys.js";
import { sealTo } from "./seal-to.js";

export const EVENTS = 240;
const BATCH = 60;

export async function ingestStage(d: Demo): Promise<void> {
  mkdirSync(d.dir.landing, { recursive: true, mode: 0o700 });
  const me = await d.data("ingest"); // the service seals as itself
  const mtls = mtlsServerOptions({ certDir: d.dir.certs("ingest"), allow: [spiffe(d, "producer")], watch: false });
  const app = Fastify({ serverFactory: mtls.serverFactory, bodyLimit: 1 << 20 });
  app.addContentTypeParser("application/x-ndjson", { parseAs: "buffer" }, (_req, body, done) => done(null, body));
  let batch = 0;
  app.post("/v1/events", async (req, reply) => {
    const source = peerOf(req.raw)?.identity.service ?? "unknown";
    const body = req.body as Buffer;
    const n = ++batch;
    await sealTo(me, path.join(d.dir.landing, `events-${String(n).padStart(4, "0")}.jsonl.pseal`), body, KEYS.landing, {
      stage: "landing",
      source,
      batch: String(n),
    });
    body.fill(0);
    return reply.code(202).send({ batch: n });
  });
  await app.listen({ port: 0, host: "127.0.0.1" });
  const port = (app.server.address() as { port: number }).port;
  const url = `https://127.0.0.1:${port}`;
  d.started({ name: "ingestion service", url, stop: () => app.close() });
  d.facts.ingestUrl = url;
  d.say(`ingestion service on ${url} (fastify, TLS 1.3, client certificate required, only ${spiffe(d, "producer")} admitted)`);

  const producer = createMtlsDispatcher({ certDir: d.dir.certs("producer"), expect: [spiffe(d, "ingest")], servername: "localhost" });
  try {
    const events = customerEvents(EVENTS);
    for (let i = 0; i < events.length; i += BATCH) {
      const body =
        events
          .slice(i, i + BATCH)
          .map((e) => JSON.stringify(e))
          .join("\n") + "\n";
      const res = await mtlsFetch(producer, `${url}/v1/events`, { method: "POST", headers: { "content-type": "application/x-ndjson" }, body });
      check(res.status === 202, `ingest: the service answered ${res.status} to a batch`);
      await res.body?.cancel();
      d.progress(Math.min(i + BATCH, events.length), events.length, "events sent");
    }
    // an identity not on the list is refused before fastify sees a byte
    const rogue = createMtlsDispatcher({ certDir: d.dir.certs("trainer-rogue"), expect: [spiffe(d, "ingest")], servername: "localhost" });
    const refused = await mtlsFetch(rogue, `${url}/v1/events`, { method: "POST", body: "{}\n" }).then(
      () => false,
      (e: { code?: string }) => e.code === "CERT_REJECTED",
    );
    await rogue.close();
    check(refused, "ingest: an identity outside the allow-list must be refused");
  } finally {
    await producer.close();
  }
  const files = readdirSync(d.dir.landing).filter((f) => f.endsWith(".pseal"));
  check(files.length === EVENTS / BATCH, `ingest: expected ${EVENTS / BATCH} sealed batches, found ${files.length}`);
  d.facts.landingFiles = files.length;
  d.say(
    `${EVENTS} events in ${files.length} batches sealed into stores/landing under ${KEYS.landing} {stage=landing, source=producer}; a rogue client was refused at the TLS gate`,
  );
  d.row({ stage: "ingestion → landing", atRest: `sealed (${KEYS.landing})`, inTransit: "mTLS, producer only", inUse: "sealed in memory, no plaintext file" });
}
