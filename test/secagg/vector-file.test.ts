/** Vector files: raw Float32, JSON, .npy — read and written, checked against numpy itself. */
import { execFileSync } from "node:child_process";
import { writeFileSync } from "node:fs";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { readVector, writeVector } from "../../src/secagg/vector-file.js";
import { tempDir } from "../helpers/keystore.js";

const dir = tempDir("pipeseal-secagg-vec-");
const py = (code: string, ...args: string[]) =>
  execFileSync("/usr/bin/python3", ["-c", code, ...args])
    .toString()
    .trim();

describe("secagg vector files", () => {
  it("round-trips .npy (float64) through numpy, and reads numpy's float32 and float64 files", async () => {
    const v = Float64Array.from([0.1, -2.5, 1e-7, 3]);
    await writeVector(path.join(dir, "a.npy"), v);
    expect(py("import numpy as np, sys; a = np.load(sys.argv[1]); print(a.dtype, a.tolist())", path.join(dir, "a.npy"))).toBe(
      "float64 [0.1, -2.5, 1e-07, 3.0]",
    );
    py(
      "import numpy as np, sys; np.save(sys.argv[1], np.array([1.5, -0.25], dtype=np.float32)); np.save(sys.argv[2], np.arange(3, dtype=np.float64) / 3)",
      path.join(dir, "f4.npy"),
      path.join(dir, "f8.npy"),
    );
    expect(Array.from(readVector(path.join(dir, "f4.npy")))).toEqual([1.5, -0.25]);
    expect(Array.from(readVector(path.join(dir, "f8.npy")))).toEqual([0, 1 / 3, 2 / 3]);
  });

  it("round-trips JSON exactly and Float32 to float32 precision", async () => {
    const v = Float64Array.from([0.1, -2.5, 1 / 3]);
    await writeVector(path.join(dir, "a.json"), v);
    expect(Array.from(readVector(path.join(dir, "a.json")))).toEqual(Array.from(v));
    await writeVector(path.join(dir, "a.f32"), v);
    expect(Array.from(readVector(path.join(dir, "a.f32")))).toEqual(Array.from(Float32Array.from(v)));
  });

  it("refuses malformed files with INVALID_ARGUMENT", () => {
    const bad = (name: string, body: string | Buffer) => {
      writeFileSync(path.join(dir, name), body);
      return () => readVector(path.join(dir, name));
    };
    expect(bad("odd.f32", Buffer.alloc(5))).toThrow(expect.objectContaining({ code: "INVALID_ARGUMENT" }));
    expect(bad("s.json", '["a"]')).toThrow(expect.objectContaining({ code: "INVALID_ARGUMENT" }));
    expect(bad("x.npy", "not numpy")).toThrow(expect.objectContaining({ code: "INVALID_ARGUMENT" }));
    py(
      "import numpy as np, sys; np.save(sys.argv[1], np.zeros((2, 2), dtype=np.float32)); np.save(sys.argv[2], np.zeros(2, dtype=np.int32))",
      path.join(dir, "2d.npy"),
      path.join(dir, "int.npy"),
    );
    expect(() => readVector(path.join(dir, "2d.npy"))).toThrow(expect.objectContaining({ code: "INVALID_ARGUMENT" }));
    expect(() => readVector(path.join(dir, "int.npy"))).toThrow(expect.objectContaining({ code: "INVALID_ARGUMENT" }));
    expect(bad("nan.f32", Buffer.from(Float32Array.from([NaN]).buffer))).toThrow(expect.objectContaining({ code: "INVALID_ARGUMENT" }));
  });
});
