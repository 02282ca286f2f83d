import { spawnSync } from "node:child_process";
import { cpSync, readFileSync, readdirSync, writeFileSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { beforeAll, describe, expect, it } from "vitest";
import { CLI } from "../cli/run-cli.js";
import { sarifValidator, tree } from "./helpers.js";

const CORPUS = fileURLToPath(new URL("../corpus/scan/", import.meta.url));

/** The planted values in test/corpus/scan/, pulled out of the raw files so the test can prove none leaks. */
function plantedValues(): string[] {
  const raw = readdirSync(CORPUS)
    .map((f) => readFileSync(path.join(CORPUS, f), "utf8"))
    .join("\n");
  const res = [
    /sk-proj-[A-Za-z0-9]+/g,
    /hf_[A-Za-z0-9]+/g,
    /AKIA[A-Z2-7]{16}/g,
    /ghp_[A-Za-z0-9]+/g,
    /xoxb-[A-Za-z0-9-]+/g,
    /sk-ant-[A-Za-z0-9_-]+/g,
    /glpat-[A-Za-z0-9_-]+/g,
    /[a-z.-]+@[a-z-]+\.org/g,
  ];
  const values = res.flatMap((re) => [...raw.matchAll(re)].map((m) => m[0]));
  expect(values).toHaveLength(9);
  return values;
}

function run(cwd: string, args: string[], env: Record<string, string> = {}) {
  const r = spawnSync(process.execPath, [CLI, "scan", ...args], { cwd, env: { PATH: process.env.PATH ?? "", ...env }, encoding: "utf8" });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

describe("pipeseal scan (built CLI)", () => {
  let dir: string;
  let values: string[];
  beforeAll(() => {
    dir = tree({});
    cpSync(CORPUS, path.join(dir, "repo"), { recursive: true });
    values = plantedValues();
  });
  const noValues = (text: string) => {
    for (const v of values) expect(text, "a planted value leaked into the output").not.toContain(v);
  };

  it("reports notebook, source and CI-log findings with cell and line, exits 8, prints no value", () => {
    const r = run(dir, ["repo"]);
    expect(r.status).toBe(8);
    const lines = r.stdout.trim().split("\n");
    expect(lines.map((l) => l.split("  ").slice(0, 2).join(" "))).toEqual([
      "repo/ci.log:3:28 anthropic-key",
      "repo/ci.log:4:32 gitlab-token",
      "repo/notebook.ipynb:9:15 [cell 0 (markdown) line 2:10] email",
      "repo/notebook.ipynb:22:25 [cell 1 (code) line 4:19] openai-key",
      "repo/notebook.ipynb:23:19 [cell 1 (code) line 5:13] huggingface-token",
      "repo/notebook.ipynb:37:31 [cell 2 output 0 (stream) line 2:24] aws-access-key-id",
      "repo/notebook.ipynb:53:47 [cell 2 output 2 (text/plain) line 1:39] email",
      "repo/upload.py:9:17 github-token",
      "repo/upload.py:10:14 slack-token",
    ]);
    expect(r.stderr).toMatch(/4 files .* 1 notebooks; .* 9 findings: 9 new, 0 baselined/);
    noValues(r.stdout + r.stderr);
  });

  it("--json and --sarif: valid SARIF 2.1.0, no values anywhere", () => {
    const r = run(dir, ["repo", "--json", "--sarif", "out.sarif"]);
    expect(r.status).toBe(8);
    const json = JSON.parse(r.stdout);
    expect(json.findings).toHaveLength(9);
    expect(json.stats).toMatchObject({ files: 4, notebooks: 1, findings: 9, newFindings: 9 });
    const sarifText = readFileSync(path.join(dir, "out.sarif"), "utf8");
    const validate = sarifValidator();
    expect(validate(JSON.parse(sarifText)), JSON.stringify(validate.errors)).toBe(true);
    noValues(r.stdout + r.stderr + sarifText);
  });

  it("baseline: --update-baseline accepts everything (exit 0), a new secret fails again (exit 8)", () => {
    const up = run(dir, ["repo", "--baseline", "baseline.json", "--update-baseline"]);
    expect(up.status).toBe(0);
    const baselineText = readFileSync(path.join(dir, "baseline.json"), "utf8");
    expect(JSON.parse(baselineText).findings).toHaveLength(9);
    noValues(baselineText + up.stdout + up.stderr);

    const again = run(dir, ["repo", "--baseline", "baseline.json"]);
    expect(again.status).toBe(0);
    expect(
      again.stdout
        .trim()
        .split("\n")
        .every((l) => l.endsWith("(baselined)")),
    ).toBe(true);

    // lines inserted above every finding: still baselined
    const up2 = path.join(dir, "repo", "upload.py");
    writeFileSync(up2, "# header\n# more header\n" + readFileSync(up2, "utf8"));
    expect(run(dir, ["repo", "--baseline", "baseline.json"]).status).toBe(0);

    writeFileSync(path.join(dir, "repo", "new.env"), "STRIPE_KEY=sk_live_" + "4eC39HqLyjWDarjtT1zdp7dc9Zk3" + "\n");
    const fail = run(dir, ["repo", "--baseline", "baseline.json", "--json"]);
    expect(fail.status).toBe(8);
    expect(
      JSON.parse(fail.stdout)
        .findings.filter((f: { baselined: boolean }) => !f.baselined)
        .map((f: { path: string }) => f.path),
    ).toEqual(["repo/new.env"]);
  });

  it("errors are not findings: a missing path or a bad option exits 2", () => {
    const missing = run(dir, ["nope"]);
    expect(missing.status, missing.stderr).toBe(2);
    expect(missing.stderr).toContain("[INVALID_ARGUMENT]");
    expect(run(dir, ["repo", "--max-file-size", "lots"]).status).toBe(2);
    expect(run(dir, ["repo", "--update-baseline"]).status).toBe(2);
    writeFileSync(path.join(dir, "bad.json"), "[]");
    expect(run(dir, ["repo", "--baseline", "bad.json"]).status).toBe(2);
  });

  it("a clean tree exits 0", () => {
    const clean = tree({ "README.md": "# nothing to see\nversion 1.2.3, id 3f2b8c1e-9d4a-4e7b-8c2f-1a6d5e9b0c7d\n" });
    const r = run(clean, ["."]);
    expect(r.status, r.stderr).toBe(0);
    expect(r.stdout).toBe("");
  });
});
