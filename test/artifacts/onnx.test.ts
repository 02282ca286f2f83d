// The in-memory loading path end to end: a hand-written ONNX model is pushed to the encrypted
// registry, loaded back as a verified Buffer (no plaintext file), and run by onnxruntime-node.
import { existsSync, mkdirSync, writeFileSync } from "node:fs";
import path from "node:path";
import ort from "onnxruntime-node";
import { beforeAll, describe, expect, it } from "vitest";
import { FolderRegistry, loadArtifact, pushModel } from "../../src/artifacts/index.js";
import { tempDir } from "../helpers/keystore.js";
import { setup, type Env } from "./helpers.js";
import { makeAddModel } from "./onnx-model.js";

let env: Env;
beforeAll(async () => {
  env = await setup();
});

describe("loadArtifact + onnxruntime-node", () => {
  it("runs a model loaded from the encrypted registry straight from memory", async () => {
    const dir = path.join(tempDir(), "adder");
    mkdirSync(dir);
    writeFileSync(path.join(dir, "model.onnx"), makeAddModel());
    const reg = new FolderRegistry(path.join(tempDir(), "reg"));
    await pushModel(env.ks, reg, dir, { name: "adder", version: "1" }, { keyName: "models/prod", signer: env.signer });
    const bytes = await loadArtifact(env.ks, reg, "adder@1", "model.onnx", { trust: env.trust(["adder"]) });
    const session = await ort.InferenceSession.create(bytes);
    const a = new ort.Tensor("float32", Float32Array.from([1, 2, 3]), [3]);
    const b = new ort.Tensor("float32", Float32Array.from([10, 20, 30]), [3]);
    const out = await session.run({ A: a, B: b });
    expect(Array.from(out.Y!.data as Float32Array)).toEqual([11, 22, 33]);
    expect(existsSync(path.join(reg.location, "adder", "1", "objects", "0.pseal"))).toBe(true);
    await expect(loadArtifact(env.ks, reg, "adder@1", "model.onnx", { trust: env.trust(["nobody"]) })).rejects.toMatchObject({ code: "SIGNER_UNTRUSTED" });
  });
});
