/**
 * `pipeseal --server URL --cert DIR scan . --fix=apply` against a real key service on
 * loopback (mTLS): the found secrets go to the service's store, none to the local keystore,
 * and the printed `pipeseal run` line carries the same --server and --cert, so running it
 * gives the fixed program the original value.
 */
import { createHash } from "node:crypto";
import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type Harness, POLICY, WHO, runCli, startHarness } from "../server/api-harness.js";

const OPENAI = "sk-proj-Zq8wX2vB7nM4kL9pR3tY6uI1oE5aS0dFgH";
const HF = "hf_Xy7Qk2LmN9pR4sT6vW8zA1bC3dE5fG7hJ";
const POLICY_REPO_SECRETS = POLICY.replace(
  "  - { id: audit,",
  `  - { id: secrets-repo, group: workloads, operations: [secret.read, secret.write], keys: ["secrets/repo"] }
  - { id: secrets-list, group: workloads, operations: [secret.list] }
  - { id: audit,`,
);

let h: Harness;
let repo: string;
let env: NodeJS.ProcessEnv;

/** The built CLI in `cwd`, asynchronously (the key service under test runs in this process). */
async function pipeseal(args: string[], cwd: string): Promise<{ status: number | null; stdout: string; stderr: string }> {
  const r = await runCli(args, env, { cwd });
  return { ...r, stdout: r.stdout.toString() };
}

beforeAll(async () => {
  h = await startHarness({ policy: POLICY_REPO_SECRETS });
  env = { PATH: process.env.PATH ?? "", PIPESEAL_HOME: path.join(h.dir, "local-ks"), PIPESEAL_KEYRING_ID: "ks:test" };
  // a local keystore too, so a fix that ignored --server would have somewhere to put the secrets
  expect((await pipeseal(["init"], h.dir)).status).toBe(0);
  repo = path.join(h.dir, "repo");
  mkdirSync(repo);
  writeFileSync(path.join(repo, "train.py"), `import hashlib\nOPENAI_API_KEY = "${OPENAI}"\nprint(hashlib.sha256(OPENAI_API_KEY.encode()).hexdigest())\n`);
  writeFileSync(path.join(repo, ".env"), `HF_TOKEN=${HF}\n`);
}, 60_000);
afterAll(async () => h?.close());

describe("scan --fix with --server", () => {
  it("--fix=apply stores the secrets in the key service, not locally, and prints run lines with the same --server and --cert", async () => {
    const remote = ["--server", h.svc.url, "--cert", h.certs.trainer];
    const patch = await pipeseal([...remote, "scan", ".", "--fix=patch"], repo);
    expect(patch.stderr).toContain(
      `after --fix=apply, run them with:\n  pipeseal ${remote.join(" ")} run --secret OPENAI_API_KEY=repo/openai-api-key --secret HF_TOKEN=repo/hf-token -- python3 train.py\n`,
    );
    expect(patch.stdout).toContain(
      `+# HF_TOKEN moved to the pipeseal secret store as repo/hf-token; run with: pipeseal ${remote.join(" ")} run --secret HF_TOKEN=repo/hf-token -- <command>`,
    );

    const apply = await pipeseal([...remote, "scan", ".", "--fix=apply"], repo);
    expect(apply.status).toBe(0);
    const line = `pipeseal ${remote.join(" ")} run --secret OPENAI_API_KEY=repo/openai-api-key --secret HF_TOKEN=repo/hf-token -- python3 train.py`;
    expect(apply.stdout).toContain(`run the fixed programs with:\n  ${line}\n`);
    expect(apply.stdout).not.toContain(OPENAI);

    // in the service's store, with the original values; nothing in the local one
    const trainer = h.keyring("trainer");
    expect((await trainer.secrets.list()).map((s) => [s.name, s.createdBy]).sort()).toEqual([
      ["repo/hf-token", WHO.trainer],
      ["repo/openai-api-key", WHO.trainer],
    ]);
    expect((await trainer.secrets.read("repo/openai-api-key", { for: "test" })).value.toString()).toBe(OPENAI);
    expect((await trainer.secrets.read("repo/hf-token", { for: "test" })).value.toString()).toBe(HF);
    const local = await pipeseal(["secret", "list", "--json"], repo);
    expect([local.status, JSON.parse(local.stdout)]).toEqual([0, []]);

    // the printed line runs the fixed program with the original secret, from the key service
    expect(readFileSync(path.join(repo, "train.py"), "utf8")).not.toContain(OPENAI);
    const run = await pipeseal(
      line
        .split(" ")
        .slice(1)
        .map((w) => (w === "python3" ? "/usr/bin/python3" : w)),
      repo,
    );
    expect([run.status, run.stdout.trim()]).toEqual([0, createHash("sha256").update(OPENAI).digest("hex")]);
  }, 60_000);
});
