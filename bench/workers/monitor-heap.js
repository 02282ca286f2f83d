// The monitor benchmark's memory probe: the engine over an export file, in-process, reporting
// the live heap after a full GC (run with --expose-gc) and the size of the engine's state every
// `every` records — what the baselines hold, without the garbage a peak RSS also counts.
// Usage: node --expose-gc bench/workers/monitor-heap.js <file> <monitor.yaml> <learnUntil ISO> [every]
import { createReadStream } from "node:fs";
import { AuditLineReader, MonitorEngine, loadMonitorConfig } from "../../dist/monitor/index.js";

const [file, yaml, learnUntil, everyArg] = process.argv.slice(2);
const every = Number(everyArg ?? 1_000_000);
const engine = new MonitorEngine({ config: loadMonitorConfig(yaml), learnUntilMs: Date.parse(learnUntil) });
const reader = new AuditLineReader();
const samples = [];
let records = 0;
const each = (r) => {
  records++;
  engine.push(r); // alerts are not kept: this measures the engine
  if (records % every === 0) {
    globalThis.gc();
    samples.push({ records, heapMiB: process.memoryUsage().heapUsed / 2 ** 20, stateMiB: JSON.stringify(engine.toState()).length / 2 ** 20 });
  }
};
for await (const chunk of createReadStream(file, { highWaterMark: 1 << 20 })) reader.push(chunk, each);
reader.end(each);
process.stdout.write(JSON.stringify({ records, samples }) + "\n");
