/**
 * `pipeseal secagg serve|submit|result`: secure aggregation (docs/secagg.md). `serve` runs the
 * aggregator over mTLS until SIGINT/SIGTERM, auditing each round into the local keystore
 * (--home); `submit` takes part in a round with a vector file; `result` fetches a round's sum.
 */
import path from "node:path";
import { Command } from "commander";
import { UsageError } from "../../errors.js";
import { parseDuration } from "../../io/duration.js";
import { printable } from "../../io/printable.js";
import { SecaggClient } from "../../secagg/client.js";
import { maxParties } from "../../secagg/quantize.js";
import { startAggregator } from "../../secagg/server.js";
import { readVector, writeVector } from "../../secagg/vector-file.js";
import { emit, withKeystore } from "../session.js";
import { refuseOverwrite } from "../output.js";
import { parseListen } from "./gateway.js";

const collect = (v: string, prev: string[]) => [...prev, v];

function int(text: string | undefined, what: string, min = 1): number | undefined {
  if (text === undefined) return undefined;
  const n = Number(text);
  if (!Number.isInteger(n) || n < min) throw new UsageError("INVALID_ARGUMENT", `${what} must be an integer ≥ ${min}`);
  return n;
}

function serveCommand(): Command {
  return new Command("serve")
    .description("run the aggregator over HTTPS+mTLS; every round's membership, dropouts and result digest are audited")
    .requiredOption("--cert <dir>", "the aggregator's certificate folder (pipeseal ca issue aggregator --out DIR)")
    .requiredOption("--parties <pattern>", "SPIFFE ID pattern of the parties, e.g. 'spiffe://acme.ml/*/hospital-*' (repeatable)", collect, [])
    .requiredOption("--threshold <t>", "Shamir threshold: shares needed to unmask, and the fewest inputs a released sum may hold")
    .requiredOption("--dim <n>", "vector length")
    .option("--listen <host:port>", "address to listen on", "127.0.0.1:9555")
    .option("--min-parties <n>", "parties needed before a round starts (default: the threshold)")
    .option("--max-parties <n>", "parties admitted per round (default: 2t − 1 for the full graph, the quantization limit for SecAgg+)")
    .option("--neighbours <k>", "SecAgg+ mode: mask with k neighbours (even) on a random graph instead of all parties")
    .option("--readers <pattern>", "SPIFFE ID pattern that may read results besides the round's parties (repeatable)", collect, [])
    .option("--clip <c>", "clipping range: values are clipped to [-c, c]", "8")
    .option("--levels <R>", "quantization levels", String(2 ** 22))
    .option("--join-window <duration>", "after min-parties joined, how long more may join", "5s")
    .option("--step-timeout <duration>", "parties that have not answered a step within this are dropped", "60s")
    .option("--join-timeout <duration>", "a round that never reaches min-parties is aborted after this", "10m")
    .action(async (o: Record<string, string | string[] | undefined>, cmd: Command) => {
      const listen = parseListen(o.listen as string);
      const threshold = int(o.threshold as string, "--threshold", 2)!;
      const k = int(o.neighbours as string | undefined, "--neighbours", 2);
      const quantization = { clip: Number(o.clip), levels: int(o.levels as string, "--levels", 2)! };
      const minParties = int(o.minParties as string | undefined, "--min-parties") ?? threshold;
      const max = int(o.maxParties as string | undefined, "--max-parties") ?? (k === undefined ? 2 * threshold - 1 : maxParties(quantization));
      const round = {
        dim: int(o.dim as string, "--dim")!,
        threshold,
        minParties,
        maxParties: max,
        graph: k === undefined ? ("full" as const) : ("plus" as const),
        neighbours: k ?? 0,
        quantization,
      };
      await withKeystore(cmd, async (ks) => {
        const agg = await startAggregator(
          {
            tls: { certDir: path.resolve(o.cert as string) },
            parties: o.parties as string[],
            readers: o.readers as string[],
            round,
            audit: (e) => void ks.appendAuditEvent(e),
            timing: {
              joinWindowMs: parseDuration(o.joinWindow as string) * 1000,
              stepTimeoutMs: parseDuration(o.stepTimeout as string) * 1000,
              joinTimeoutMs: parseDuration(o.joinTimeout as string) * 1000,
            },
            log: (e) => process.stderr.write(`${JSON.stringify({ time: new Date().toISOString(), ...e })}\n`),
          },
          listen,
        );
        process.stderr.write(
          `pipeseal secagg: aggregating on ${agg.url} (${round.graph === "full" ? "full graph" : `SecAgg+, k = ${k}`}, t = ${threshold}, ${minParties}..${max} parties, dim ${round.dim})\n`,
        );
        await new Promise<void>((resolve) => {
          process.once("SIGINT", resolve);
          process.once("SIGTERM", resolve);
        });
        await agg.close();
      });
    });
}

function clientOptions(cmd: Command) {
  return cmd
    .requiredOption("--server <url>", "the aggregator, https://host:port")
    .requiredOption("--cert <dir>", "this party's certificate folder: cert.pem, key.pem, ca.pem")
    .requiredOption("--round <id>", "the round id (1-64 characters of A-Z a-z 0-9 . _ -)")
    .option("--expect <pattern>", "SPIFFE ID pattern of the aggregator (repeatable; default: any identity of our trust domain)", collect, [])
    .option("--wait <duration>", "longest wait for the aggregator to finish a step", "10m")
    .option("--json", "print the outcome as JSON");
}

function client(o: {
  server: string;
  cert: string;
  expect: string[];
  wait: string;
  peers?: string[];
  minThreshold?: string;
  minNeighbours?: string;
}): SecaggClient {
  const minThreshold = int(o.minThreshold, "--min-threshold", 2);
  const minNeighbours = int(o.minNeighbours, "--min-neighbours", 2);
  return new SecaggClient({
    server: o.server,
    tls: { certDir: path.resolve(o.cert) },
    ...(o.expect.length ? { expect: o.expect } : {}),
    ...(o.peers?.length ? { peers: o.peers } : {}),
    ...(minThreshold !== undefined ? { minThreshold } : {}),
    ...(minNeighbours !== undefined ? { minNeighbours } : {}),
    waitMs: parseDuration(o.wait) * 1000,
  });
}

function submitCommand(): Command {
  return clientOptions(new Command("submit"))
    .description("take part in a round with a vector: a Float32 file (little-endian), .json array or .npy")
    .argument("<file>", "the vector")
    .option("--peers <pattern>", "SPIFFE ID pattern every other party must match (repeatable; default: any identity of our CA)", collect, [])
    .option("--min-threshold <t>", "refuse rounds announced with a smaller threshold")
    .option("--min-neighbours <k>", "refuse SecAgg+ rounds with fewer neighbours")
    .action(
      async (
        file: string,
        o: { server: string; cert: string; round: string; expect: string[]; wait: string; peers: string[]; minThreshold?: string; minNeighbours?: string },
        cmd: Command,
      ) => {
        const vector = readVector(file);
        const c = client(o);
        try {
          const r = await c.submit(o.round, vector);
          emit(
            cmd,
            r,
            () =>
              `submitted to round ${printable(r.round)} as ${printable(r.party)}: ${r.parties} parties, ${r.bytesSent} bytes sent (the vector alone: ${vector.length * 4})`,
          );
        } finally {
          await c.close();
        }
      },
    );
}

function resultCommand(): Command {
  return clientOptions(new Command("result"))
    .description("fetch a round's sum (waits for the round to finish)")
    .option("-o, --output <file>", "write the sum: .json (float64 array), .npy (float64) or any other name (Float32 little-endian)")
    .option("--force", "replace an existing output file")
    .action(
      async (
        o: { server: string; cert: string; round: string; expect: string[]; wait: string; output?: string; force?: boolean; json?: boolean },
        cmd: Command,
      ) => {
        if (!o.output && !o.json) throw new UsageError("INVALID_ARGUMENT", "give -o FILE for the sum (or --json to print it)");
        if (o.output) await refuseOverwrite(o.output, o.force);
        const c = client(o);
        try {
          const r = await c.result(o.round, parseDuration(o.wait) * 1000);
          if (o.output) await writeVector(o.output, r.sum);
          const summary = {
            round: r.round,
            inputs: r.included.length,
            included: r.included,
            dim: r.sum.length,
            sha256: r.digest,
            errorBound: r.errorBound,
            ...(o.output ? { output: o.output } : { sum: Array.from(r.sum) }),
          };
          emit(
            cmd,
            summary,
            () =>
              `round ${printable(r.round)}: the sum of ${r.included.length} inputs (${r.sum.length} values, each within ±${r.errorBound.toPrecision(3)} of the exact sum of the clipped inputs) → ${printable(o.output ?? "")}\nsha256 ${r.digest}`,
          );
        } finally {
          await c.close();
        }
      },
    );
}

export function secaggCommand(): Command {
  return new Command("secagg")
    .description("secure aggregation: parties learn the sum of their vectors and nothing else (docs/secagg.md)")
    .addCommand(serveCommand())
    .addCommand(submitCommand())
    .addCommand(resultCommand());
}
