// The monitor benchmark's peer: the least a JSON-lines consumer does — readline + JSON.parse of
// every line, nothing else. Usage: node bench/workers/jsonl-peer.js <file>
import { createReadStream } from "node:fs";
import { createInterface } from "node:readline";

let n = 0;
const input = createReadStream(process.argv[2], { highWaterMark: 1 << 20 });
for await (const line of createInterface({ input, crlfDelay: Infinity })) {
  if (line.length > 0 && JSON.parse(line) !== null) n++;
}
process.stdout.write(JSON.stringify({ records: n }) + "\n");
