/**
 * `monitor run --server` leaves anchors to the key service, and says where the service's are
 * set: `audit: { anchorEvery, anchorDir }` in keyservice.yaml (src/server/config.ts), the keys
 * that file really has. Built CLI; no service is needed (nothing listens on the URL): both
 * messages come before the first request.
 */
import { spawn } from "node:child_process";
import { writeFileSync } from "node:fs";
import path from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import { CLI, cli } from "../cli/run-cli.js";
import { tempDir } from "../helpers/keystore.js";

const dir = tempDir("pipeseal-monitor-anchors-");
const env = { PIPESEAL_HOME: path.join(dir, ".pipeseal"), PIPESEAL_PRINCIPAL: "monitor", PIPESEAL_KEYRING_ID: "ks:test" };
const certs = path.join(dir, "certs", "monitor");
// port 9 (discard) on loopback: nothing answers there
const remote = ["--server", "https://127.0.0.1:9", "--cert", certs];
const WHERE = "`audit: { anchorEvery: 1h, anchorDir: <folder> }` in its keyservice.yaml";

beforeAll(() => {
  expect(cli(["init"], env).status).toBe(0);
  expect(cli(["ca", "init", "--name", "t", "--trust-domain", "acme.ml"], env).status).toBe(0);
  expect(cli(["ca", "issue", "monitor", "--env", "prod", "--client", "--out", certs], env).status).toBe(0);
});

describe("monitor run --server names the key service's real anchor settings", () => {
  it("--anchor-every with --server is refused, pointing at audit.anchorEvery / audit.anchorDir", () => {
    const r = cli([...remote, "monitor", "run", "--anchor-every", "1h", "--anchor-dir", dir], env);
    expect(r.status).toBe(2);
    expect(r.stderr).toContain(WHERE);
    expect(r.stderr).not.toContain("`anchors:` in its keyservice.yaml");
  });

  it("anchors: in monitor.yaml with --server: the notice says the same", async () => {
    const config = path.join(dir, "monitor.yaml");
    writeFileSync(config, `version: 1\nanchors: { every: 1h, dir: ${JSON.stringify(path.join(dir, "anchors"))} }\nstate: { file: state.pseal }\n`);
    const child = spawn(process.execPath, [CLI, ...remote, "monitor", "run", "--config", config], {
      env: { PATH: process.env.PATH ?? "", ...env },
      stdio: ["ignore", "ignore", "pipe"],
    });
    let stderr = "";
    const closed = new Promise<void>((resolve) => child.on("close", () => resolve()));
    const notice = await new Promise<string>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`no notice; stderr so far: ${stderr}`)), 20_000);
      child.stderr!.on("data", (c) => {
        stderr += c;
        const line = stderr.split("\n").find((l) => l.startsWith("pipeseal: monitor: anchors:"));
        if (line !== undefined) {
          clearTimeout(timer);
          resolve(line);
        }
      });
      child.on("close", () => {
        clearTimeout(timer);
        const line = stderr.split("\n").find((l) => l.startsWith("pipeseal: monitor: anchors:"));
        if (line !== undefined) resolve(line);
        else reject(new Error(`exited without the notice: ${stderr}`));
      });
    });
    child.kill("SIGTERM");
    await closed;
    expect(notice).toContain(WHERE);
    expect(notice).not.toContain("`anchors:` in its keyservice.yaml");
  }, 30_000);
});
