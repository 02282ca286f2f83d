/**
 * Vector files for `pipeseal secagg`: raw little-endian Float32 (any name not ending in .json
 * or .npy, e.g. `update.f32`), a JSON array of numbers, or a NumPy `.npy` file (format 1.0–3.0,
 * one dimension, `<f4` or `<f8`, C order) — what a Python trainer writes with `np.save`.
 */
import { readFileSync } from "node:fs";
import { once, writeAtomic } from "../io/atomic.js";
import { UsageError } from "../errors.js";

const NPY_MAGIC = Buffer.from([0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59]);

/** @throws UsageError(INVALID_ARGUMENT) for a malformed file; IO errors pass through. */
export function readVector(path: string): Float64Array {
  const data = readFileSync(path);
  if (path.endsWith(".json")) return fromJson(data, path);
  if (path.endsWith(".npy")) return fromNpy(data, path);
  if (data.length % 4 !== 0) throw new UsageError("INVALID_ARGUMENT", `${path}: a Float32 file's size is a multiple of 4 bytes`);
  const out = new Float64Array(data.length / 4);
  for (let i = 0; i < out.length; i++) out[i] = data.readFloatLE(i * 4);
  return checkFinite(out, path);
}

function checkFinite(v: Float64Array, path: string): Float64Array {
  const bad = v.findIndex((x) => !Number.isFinite(x));
  if (bad >= 0) throw new UsageError("INVALID_ARGUMENT", `${path}: value ${bad} is not a finite number`);
  return v;
}

function fromJson(data: Buffer, path: string): Float64Array {
  let v: unknown;
  try {
    v = JSON.parse(data.toString("utf8"));
  } catch {
    throw new UsageError("INVALID_ARGUMENT", `${path}: not JSON`);
  }
  if (!Array.isArray(v) || !v.every((x) => typeof x === "number")) throw new UsageError("INVALID_ARGUMENT", `${path}: expected a JSON array of numbers`);
  return checkFinite(Float64Array.from(v), path);
}

function fromNpy(data: Buffer, path: string): Float64Array {
  const bad = (m: string): never => {
    throw new UsageError("INVALID_ARGUMENT", `${path}: ${m}`);
  };
  if (data.length < 10 || !data.subarray(0, 6).equals(NPY_MAGIC)) bad("not a .npy file");
  const major = data[6];
  const headerLen = major === 1 ? data.readUInt16LE(8) : major === 2 || major === 3 ? data.readUInt32LE(8) : bad("unsupported .npy version");
  const start = (major === 1 ? 10 : 12) + headerLen;
  if (start > data.length) bad("truncated header");
  const header = data.subarray(major === 1 ? 10 : 12, start).toString("latin1");
  const descr = /'descr':\s*'([<>|=]?[a-z]\d+)'/.exec(header)?.[1];
  const fortran = /'fortran_order':\s*(True|False)/.exec(header)?.[1];
  const shape = /'shape':\s*\(([^)]*)\)/.exec(header)?.[1];
  if (!descr || !fortran || shape === undefined) bad("malformed header");
  const dims = shape!
    .split(",")
    .map((s) => s.trim())
    .filter(Boolean)
    .map(Number);
  if (dims.length !== 1 || !Number.isInteger(dims[0])) bad("expected a one-dimensional array");
  const n = dims[0];
  const width = descr === "<f4" ? 4 : descr === "<f8" ? 8 : bad(`dtype ${descr} is not supported (use float32 or float64, little-endian)`);
  if (data.length - start !== n * (width as number)) bad("the data size does not match the shape");
  const out = new Float64Array(n);
  for (let i = 0; i < n; i++) out[i] = width === 4 ? data.readFloatLE(start + 4 * i) : data.readDoubleLE(start + 8 * i);
  return checkFinite(out, path);
}

/** Writes a vector atomically: `.json` as an exact JSON array (float64), `.npy` as `<f8`, anything else as raw Float32 LE. */
export async function writeVector(path: string, v: Float64Array): Promise<void> {
  let body: Buffer;
  if (path.endsWith(".json")) body = Buffer.from(JSON.stringify(Array.from(v)) + "\n");
  else if (path.endsWith(".npy")) {
    let header = `{'descr': '<f8', 'fortran_order': False, 'shape': (${v.length},), }`;
    header += " ".repeat(64 - ((10 + header.length + 1) % 64)) + "\n";
    const head = Buffer.alloc(10);
    NPY_MAGIC.copy(head);
    head[6] = 1;
    head[7] = 0;
    head.writeUInt16LE(header.length, 8);
    body = Buffer.concat([head, Buffer.from(header, "latin1"), Buffer.from(v.buffer, v.byteOffset, v.byteLength)]);
  } else {
    body = Buffer.alloc(v.length * 4);
    for (let i = 0; i < v.length; i++) body.writeFloatLE(v[i], i * 4);
  }
  await writeAtomic(path, once(body));
}
