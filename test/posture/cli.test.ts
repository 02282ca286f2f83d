import { readFileSync, writeFileSync } from "node:fs";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { cli } from "../cli/run-cli.js";
import { tempDir } from "../helpers/keystore.js";
import { buildPipeline } from "./pipeline.js";

describe("pipeseal posture (built CLI)", () => {
  it("init prints a map that check accepts", () => {
    const dir = tempDir();
    const init = cli(["posture", "init"], {});
    expect(init.status).toBe(0);
    writeFileSync(path.join(dir, "pipeline.yaml"), init.stdout);
    // no keystore, no folders, an unreachable endpoint: findings, but a valid map (exit 8, not 2)
    const r = cli(["posture", "check", path.join(dir, "pipeline.yaml"), "--json"], { HOME: dir });
    expect(r.stderr).toBe("");
    expect(r.status).toBe(8);
    const report = JSON.parse(r.stdout.toString());
    expect(report.findings.map((f: { checkId: string }) => f.checkId)).toEqual(
      expect.arrayContaining(["KEYS-UNVERIFIED", "REST-STORE-MISSING", "REST-S3-UNVERIFIED"]),
    );
  }, 60_000);

  it("check: exit 8 on findings at or above --fail-on; JSON, SARIF, HTML and baseline", async () => {
    const p = await buildPipeline(true);
    const dir = tempDir();
    const json = path.join(dir, "prev.json");
    const sarif = path.join(dir, "out.sarif");
    const r = cli(["posture", "check", p.mapFile, "--json", "--sarif", sarif], {});
    expect(r.status).toBe(8);
    writeFileSync(json, r.stdout);
    const report = JSON.parse(r.stdout.toString());
    expect(report.tool.name).toBe("pipeseal");
    expect(JSON.parse(readFileSync(sarif, "utf8")).runs[0].results).toHaveLength(report.findings.length);
    const human = cli(["posture", "check", p.mapFile, "--baseline", json, "--fail-on", "critical"], {});
    expect(human.status).toBe(0); // the critical REST-PLAINTEXT is in the baseline: no regression
    expect(human.stdout.toString()).toMatch(/FAIL {2}landing/);
    expect(human.stdout.toString()).toMatch(/since .*prev\.json: 0 new, 0 fixed/);
    const empty = path.join(dir, "empty.json");
    writeFileSync(empty, JSON.stringify({ ...report, findings: [] }));
    const regressed = cli(["posture", "check", p.mapFile, "--baseline", empty, "--fail-on", "critical"], {});
    expect(regressed.status).toBe(8); // every finding is new against an empty baseline, REST-PLAINTEXT of PII is critical
    expect(regressed.stdout.toString()).toMatch(new RegExp(`${report.findings.length} new, 0 fixed`));
    const html = path.join(dir, "report.html");
    const lenient = cli(["posture", "check", p.mapFile, "--fail-on", "info", "--html", html], {});
    expect(lenient.status).toBe(8);
    expect(readFileSync(html, "utf8")).toMatch(/^<!doctype html>/i);
  }, 60_000);

  it("clean pipeline exits 0; map errors exit 2 with the line; explain", async () => {
    const p = await buildPipeline(false);
    p.ks.close();
    const ok = cli(["posture", "check", p.mapFile], {});
    expect(ok.stderr).toBe("");
    expect(ok.status).toBe(0);
    const bad = path.join(p.root, "bad.yaml");
    writeFileSync(bad, "version: 1\nname: x\nstages:\n  landing:\n    stores:\n      - { id: a, kind: folder, path: x, classification: top-secret }\n");
    const err = cli(["posture", "check", bad], {});
    expect(err.status).toBe(2);
    expect(err.stderr).toMatch(/bad\.yaml:6: store a classification must be one of .*\[MAP_INVALID\]/);
    const ex = cli(["posture", "explain", "REST-PLAINTEXT"], {});
    expect(ex.status).toBe(0);
    expect(ex.stdout.toString()).toMatch(/^REST-PLAINTEXT: Plaintext file in an encrypted store/);
    const typo = cli(["posture", "explain", "KEYS-ROTATE"], {});
    expect(typo.status).toBe(2);
    expect(typo.stderr).toMatch(/did you mean KEYS-.*\[INVALID_ARGUMENT\]/);
  }, 60_000);
});
