import { writeFileSync, mkdirSync } from "node:fs";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { isPipesealError } from "../../src/errors.js";
import { POSTURE_FINGERPRINT_NAME, checkPosture, explainCheck, keystoreSource, loadMap, toPostureSarif } from "../../src/posture/index.js";
import { dutyConflicts, parsePolicy, whoCanDecrypt } from "../../src/posture/keys/policy.js";
import { sarifValidator } from "../scan/helpers.js";
import { buildPipeline } from "./pipeline.js";

describe("posture reports", () => {
  it("SARIF 2.1.0 validates, with fingerprints stable across runs", async () => {
    const p = await buildPipeline(true);
    const map = await loadMap(p.mapFile);
    const a = await checkPosture(map, { keys: keystoreSource(p.ks, p.home) });
    const b = await checkPosture(map, { keys: keystoreSource(p.ks, p.home) });
    const log = toPostureSarif(a, "file:///srv/ml") as {
      version: string;
      runs: { results: { partialFingerprints: Record<string, string>; ruleId: string }[] }[];
    };
    const validate = sarifValidator();
    expect(validate(log), JSON.stringify(validate.errors)).toBe(true);
    expect(log.version).toBe("2.1.0");
    const fps = (r: typeof a) =>
      (toPostureSarif(r, "file:///srv/ml") as typeof log).runs[0]!.results.map((x) => x.partialFingerprints[POSTURE_FINGERPRINT_NAME]).sort();
    expect(fps(a)).toEqual(fps(b));
    expect(new Set(fps(a)).size).toBe(a.findings.length);
  });

  it("--baseline: fixing a defect lists it as fixed, a new one as added", async () => {
    const p = await buildPipeline(true);
    const map = await loadMap(p.mapFile);
    const before = await checkPosture(map, { keys: keystoreSource(p.ks, p.home) });
    const { rmSync } = await import("node:fs");
    rmSync(path.join(p.root, "data/landing/export.csv"));
    writeFileSync(path.join(p.root, "data/landing/leads.csv"), "a,b\n");
    const after = await checkPosture(map, {
      keys: keystoreSource(p.ks, p.home),
      baseline: { path: "prev.json", fingerprints: before.findings.map((f) => f.fingerprint) },
    });
    const fp = (r: typeof before, loc: string) => r.findings.find((f) => f.location === loc)!.fingerprint;
    expect(after.baseline).toEqual({ path: "prev.json", added: [fp(after, "data/landing/leads.csv")], fixed: [fp(before, "data/landing/export.csv")] });
  });

  it("LEAK-COPY: a byte-identical copy of sensitive plaintext in a compute folder", async () => {
    const p = await buildPipeline(true);
    mkdirSync(path.join(p.root, "jobs/etl/tmp"), { recursive: true });
    writeFileSync(path.join(p.root, "jobs/etl/tmp/sample.csv"), "id,segment\n7,c\n8,d\n9,e\n"); // same bytes as data/landing/export.csv
    const report = await checkPosture(await loadMap(p.mapFile), { keys: keystoreSource(p.ks, p.home) });
    const copies = report.findings.filter((f) => f.checkId === "LEAK-COPY");
    expect(copies).toHaveLength(1);
    expect(copies[0]).toMatchObject({
      subject: "etl",
      location: "jobs/etl/tmp/sample.csv",
      evidence: expect.objectContaining({ copyOf: "data/landing/export.csv" }),
    });
  });

  it("explain: a known id, and near ids for a typo", () => {
    expect(explainCheck("rest-plaintext").id).toBe("REST-PLAINTEXT");
    try {
      explainCheck("REST-PLAINTXT");
      throw new Error("expected an error");
    } catch (e) {
      expect(isPipesealError(e) && e.code).toBe("INVALID_ARGUMENT");
      expect((e as Error).message).toMatch(/did you mean REST-PLAINTEXT/);
    }
  });

  it("policy: who can decrypt a key, and separation-of-duties conflicts", () => {
    const policy = parsePolicy(`version: 1
groups:
  trainers: ["spiffe://acme.ml/*/trainer"]
  ops: ["spiffe://acme.ml/prod/ops-alice"]
bindings:
  - { group: trainers, role: workload }
  - { group: ops, role: key-admin }
  - { group: ops, role: workload }
rules:
  - { id: read, group: trainers, operations: [unwrap], keys: ["prod/datasets/*"] }
  - { id: admin, role: key-admin, operations: "*", keys: ["prod/**"] }
`);
    expect(whoCanDecrypt(policy, "prod/datasets/raw")).toEqual(["group:trainers"]);
    expect(whoCanDecrypt(policy, "prod/models/churn")).toEqual([]);
    expect(dutyConflicts(policy)).toEqual([{ subject: "group:ops", duties: ["admin", "use"], roles: ["key-admin", "workload"], line: 7 }]);
  });
});
