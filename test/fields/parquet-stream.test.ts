// Parquet output is streamed: one output row group per input row group, handed out before the
// next input group is read; the bytes form one valid file with the types kept.
import { readFileSync } from "node:fs";
import path from "node:path";
import { parquetMetadata, parquetReadObjects } from "hyparquet";
import { parquetWriteFile } from "hyparquet-writer";
import { describe, expect, it } from "vitest";
import { parseFieldPolicy, runFields } from "../../src/fields/index.js";
import { transformParquet } from "../../src/fields/formats/parquet.js";
import { freshKeystore, tempDir } from "../helpers/keystore.js";

const YAML = `version: 1
key: pii
recordId: id
rules:
  - { field: ssn, action: encrypt }
  - { field: n, action: tokenize, key: tok, version: 1 }
`;

function writeGroups(file: string, groups: number, per: number) {
  const rows = groups * per;
  parquetWriteFile({
    filename: file,
    columnData: [
      { name: "id", data: Array.from({ length: rows }, (_, i) => `r${i}`), type: "STRING" },
      { name: "ssn", data: Array.from({ length: rows }, (_, i) => `${100000000 + i}`), type: "STRING" },
      { name: "n", data: BigInt64Array.from({ length: rows }, (_, i) => BigInt(10_000_000 + i)), type: "INT64" },
    ],
    rowGroupSize: per,
  });
}

const arrayBuffer = (b: Buffer) => b.buffer.slice(b.byteOffset, b.byteOffset + b.byteLength) as ArrayBuffer;

describe("fields: Parquet is streamed row group by row group", () => {
  it("hands out each encoded row group before it reads the next one", async () => {
    const dir = tempDir();
    const input = path.join(dir, "in.parquet");
    writeGroups(input, 4, 250);
    const calls: number[] = [];
    const gen = transformParquet(
      input,
      async (rows, first) => {
        calls.push(first);
        return rows;
      },
      () => undefined,
    );
    const chunks: Uint8Array[] = [];
    for (let i = 0; i < 4; i++) {
      const step = await gen.next();
      expect(step.done).toBe(false);
      chunks.push(step.value as Uint8Array);
      expect(calls).toEqual([1, 251, 501, 751].slice(0, i + 1)); // nothing read ahead
    }
    const tail = await gen.next(); // indexes, footer
    chunks.push(tail.value as Uint8Array);
    expect((await gen.next()).done).toBe(true);
    expect(chunks.every((c) => c.length > 0)).toBe(true);
    const whole = Buffer.concat(chunks);
    expect(parquetMetadata(arrayBuffer(whole)).row_groups.map((g) => Number(g.num_rows))).toEqual([250, 250, 250, 250]);
    expect(await parquetReadObjects({ file: arrayBuffer(whole) })).toEqual(await parquetReadObjects({ file: arrayBuffer(readFileSync(input)) }));
  });

  it("apply and reveal through files keep row groups, types and values", async () => {
    const { ks } = await freshKeystore(["pii", "tok"]);
    const dir = tempDir();
    const input = path.join(dir, "in.parquet");
    writeGroups(input, 3, 400);
    const policy = parseFieldPolicy(YAML);
    const prot = path.join(dir, "p.parquet");
    const back = path.join(dir, "b.parquet");
    expect((await runFields("apply", { policy, keyring: ks, input, output: prot })).rows).toBe(1200);
    const meta = parquetMetadata(arrayBuffer(readFileSync(prot)));
    expect(meta.row_groups).toHaveLength(3);
    const protRows = await parquetReadObjects({ file: arrayBuffer(readFileSync(prot)) });
    expect(String(protRows[0]!.ssn)).toMatch(/^pse1:e:pii:1:/);
    expect(typeof protRows[0]!.n).toBe("bigint");
    await runFields("reveal", { policy, keyring: ks, input: prot, output: back });
    expect(await parquetReadObjects({ file: arrayBuffer(readFileSync(back)) })).toEqual(await parquetReadObjects({ file: arrayBuffer(readFileSync(input)) }));
  });
});
