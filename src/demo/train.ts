/**
 * Stage 5, training: a real PyTorch job (train.py) reads the sealed shards through the data
 * gateway over mTLS (fsspec), trains a small model and writes a checkpoint per epoch. It runs
 * under `pipeseal run`, which hands it the tracking-service token from the secret store (an
 * audited read) and masks the token in its output; every log line is redacted into the sealed
 * log sink. Checkpoints are sealed and signed into the checkpoint registry keeping the last 2:
 * the pruned one's key version is destroyed (crypto-shredding). The job's outputs exist in
 * plaintext only in a RAM-backed 0700 folder, removed as soon as they are sealed.
 */
import { spawn } from "node:child_process";
import { randomBytes } from "node:crypto";
import { existsSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { createInterface } from "node:readline";
import { fileURLToPath } from "node:url";
import { createSigningKey, FolderRegistry, checkpointName, openSigner, saveCheckpoint } from "../artifacts/index.js";
import { startGateway } from "../gateway/index.js";
import { remoteBackend } from "../gateway/remote-backend.js";
import { createLogSink } from "../logs/index.js";
import { Redactor } from "../redact/index.js";
import { SecretStore } from "../secrets/index.js";
import { type Demo, check, spiffe } from "./context.js";
import { KEYS } from "./keys.js";
import { PYTHON, SETUP_HINT, checkPython } from "./python.js";

export const EPOCHS = 3;
export const KEEP_CHECKPOINTS = 2;
export const TRACKING_SECRET = "tracking/token";
export const SIGNING_KEY = "prod/models/signing";
export const RUN = "churn";

const here = path.dirname(fileURLToPath(import.meta.url));
/** The built CLI (dist/cli/main.js) and the training script (kept in src/demo, next to this file's source). */
export const CLI = path.join(here, "..", "cli", "main.js");
const SCRIPT = path.join(here, "..", "..", "src", "demo", "train.py");

/** A 0700 folder on tmpfs (/dev/shm) when there is one: plaintext job outputs never reach a disk. */
export function ramFolder(prefix: string): string {
  const base = existsSync("/dev/shm") ? "/dev/shm" : tmpdir();
  return mkdtempSync(path.join(base, prefix));
}

export async function trainStage(d: Demo): Promise<void> {
  checkPython();
  // with --service the key admin writes the secret into the service (it can write secrets, never read one)
  const secrets = d.service ? (await d.service.as("ops-alice")).secrets : new SecretStore(d.ks);
  const token = Buffer.from(`trk_${randomBytes(20).toString("hex")}`);
  await secrets.set(TRACKING_SECRET, token);
  const tokenText = token.toString(); // kept only to check the job's output masks it
  token.fill(0);
  d.say(`secret store${d.service ? " (key service)" : ""}: ${TRACKING_SECRET} sealed (versioned, every read audited)`);

  // with --service the gateway unwraps in the key service on behalf of each trainer (the policy's delegates)
  const keys = d.service
    ? remoteBackend(await d.service.as("gateway"), (e) =>
        d.say(`gateway: a record did not reach the key service (${(e as { code?: string }).code ?? "error"})`),
      )
    : d.ks;
  const gw = await startGateway(
    { root: d.dir.training, keys, tls: { certDir: d.dir.certs("gateway"), watch: false }, allow: [`spiffe://${d.trustDomain}/prod/trainer*`] },
    { port: 0, host: "127.0.0.1" },
  );
  d.started({ name: "data gateway", url: gw.url, stop: () => gw.close() });
  d.facts.gatewayUrl = gw.url;
  d.say(`data gateway on ${gw.url} (mTLS; admits spiffe://${d.trustDomain}/prod/trainer*; decrypts only the ranges read, in memory)`);

  const sink = await createLogSink(d.ks, {
    dir: d.dir.logs("training"),
    keyName: `${KEYS.logs}/training`,
    retention: { payload: 7 * 86400_000, metadata: 30 * 86400_000 },
    timer: false,
  });
  const redactor = new Redactor();
  const out = ramFolder("pipeseal-demo-train-");
  // whatever happens next, the plaintext outputs go at the end of the run
  d.started({ name: "training outputs on tmpfs", stop: async () => rmSync(out, { recursive: true, force: true }) });
  const plaintextSince = Date.now();
  let epochs = 0;
  let lines = 0;
  let tokenSeen = false;
  try {
    const shards = d.facts.shards as string[];
    const where = d.service ? ["--server", d.service.url, "--cert", d.dir.certs("trainer")] : ["--home", d.dir.home];
    const child = spawn(
      process.execPath,
      [
        CLI,
        ...where,
        "run",
        "--secret",
        `TRACKING_TOKEN=${TRACKING_SECRET}`,
        "--",
        PYTHON,
        SCRIPT,
        gw.url,
        d.dir.certs("trainer"),
        out,
        String(EPOCHS),
        ...shards,
      ],
      {
        stdio: ["ignore", "pipe", "pipe"],
        env: { ...process.env, PIPESEAL_PRINCIPAL: spiffe(d, "trainer") },
      },
    );
    d.started({ name: "training job", stop: async () => void (child.exitCode === null && child.kill("SIGTERM")) });
    let stderr = "";
    child.stderr.on("data", (c: Buffer) => (stderr = (stderr + c.toString()).slice(-4000)));
    const exited = new Promise<number>((resolve) => child.on("close", (code) => resolve(code ?? 1)));
    for await (const line of createInterface({ input: child.stdout })) {
      if (line.includes(tokenText)) tokenSeen = true;
      const clean = redactor.redactText(line);
      lines++;
      let rec: Record<string, unknown>;
      try {
        rec = JSON.parse(clean) as Record<string, unknown>;
      } catch {
        rec = { class: "payload", event: "output", msg: clean };
      }
      await sink.write(rec);
      if (rec.event === "epoch") {
        epochs++;
        d.progress(epochs, EPOCHS, `epochs (loss ${String(rec.loss)}, accuracy ${String(rec.accuracy)})`);
        d.facts.accuracy = rec.accuracy;
      }
    }
    const code = await exited;
    check(
      code === 0,
      `training: the job exited with ${code}: ${stderr.trim().split("\n").slice(-3).join(" / ")}${/ImportError|ModuleNotFoundError/.test(stderr) ? ` (${SETUP_HINT})` : ""}`,
    );
    check(!tokenSeen, "training: the tracking token must be masked in the job's output");
    check(epochs === EPOCHS, `training: expected ${EPOCHS} epochs, got ${epochs}`);
    d.say(
      `PyTorch (${PYTHON}) under \`pipeseal run --secret TRACKING_TOKEN=${TRACKING_SECRET}\`: ${EPOCHS} epochs over the shards read through the gateway (fsspec, mTLS), accuracy ${String(d.facts.accuracy)}`,
    );
    d.say(`${lines} log lines redacted into the sealed log sink logs/training (${KEYS.logs}/training/{payload,metadata}); the token was masked`);

    await createSigningKey(d.ks, d.dir.home, SIGNING_KEY, "p256");
    const signer = await openSigner(d.ks, d.dir.home, SIGNING_KEY);
    const store = new FolderRegistry(d.dir.checkpoints);
    const shredded: number[] = [];
    for (let e = 1; e <= EPOCHS; e++) {
      const dir = path.join(out, `epoch-${e}`);
      const saved = await saveCheckpoint(d.ks, store, dir, { run: RUN, step: e, signer, keep: KEEP_CHECKPOINTS, keyName: `prod/checkpoints/${RUN}` });
      shredded.push(...saved.pruned.destroyKeyVersions);
      rmSync(dir, { recursive: true, force: true });
    }
    const kept = (await store.listVersions())
      .filter((r) => r.name === checkpointName(RUN))
      .map((r) => Number(r.version))
      .sort();
    check(
      kept.join(",") === Array.from({ length: KEEP_CHECKPOINTS }, (_, i) => EPOCHS - KEEP_CHECKPOINTS + 1 + i).join(","),
      `checkpoints: expected the last ${KEEP_CHECKPOINTS}, kept ${kept.join(",")}`,
    );
    check(shredded.length === EPOCHS - KEEP_CHECKPOINTS, "checkpoints: the pruned checkpoint's key version must be destroyed");
    d.facts.checkpoints = kept;
    d.facts.modelDir = path.join(out, "model");
    d.facts.ramFolder = out;
    d.facts.plaintextSince = plaintextSince;
    d.say(
      `${EPOCHS} checkpoints sealed and signed (OpenSSF, ${SIGNING_KEY}) into stores/checkpoints, one key version each; kept the last ${KEEP_CHECKPOINTS}, version ${shredded.join(",")} of prod/checkpoints/${RUN} destroyed (crypto-shredded)`,
    );
  } finally {
    await sink.close();
  }
  d.row({
    stage: "training",
    atRest: "sealed, signed checkpoints; keep 2, shred the rest",
    inTransit: "gateway mTLS range reads (fsspec)",
    inUse: "secret via `pipeseal run`, masked; outputs on tmpfs only",
  });
}
