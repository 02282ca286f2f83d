/**
 * One rule for an existing output file (issue 23): every `-o FILE` refuses to replace a file
 * unless --force is given, as `audit export`, `fields apply` and `redact` do (src/cli/output.ts).
 * Here the commands that used to overwrite silently: `ca export`, `model key export`, `audit anchor`,
 * `logs read`.
 */
import { readFileSync, writeFileSync } from "node:fs";
import path from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import { tempDir } from "../helpers/keystore.js";
import { cli } from "./run-cli.js";

const dir = tempDir("pipeseal-overwrite-");
const env = { PIPESEAL_HOME: path.join(dir, ".pipeseal"), PIPESEAL_PRINCIPAL: "alice" };
const KEEP = "a file the user wanted to keep\n";

beforeAll(() => {
  expect(cli(["init"], env).status).toBe(0);
  expect(cli(["ca", "init", "--name", "acme ML", "--trust-domain", "acme.ml"], env).status).toBe(0);
  expect(cli(["model", "key", "create", "models/signing"], env).status).toBe(0);
});

/** `args` writes `file` (the last -o or --export-key): refused over an existing file, replaced with --force. */
function refusesThenForces(args: string[], file: string, expected: RegExp): void {
  writeFileSync(file, KEEP);
  const refused = cli(args, env);
  expect([refused.status, refused.stderr]).toEqual([2, `pipeseal: ${file} already exists; use --force to replace it [INVALID_ARGUMENT]\n`]);
  expect(readFileSync(file, "utf8")).toBe(KEEP);
  const forced = cli([...args, "--force"], env);
  expect([forced.status, forced.stderr.includes("[")]).toEqual([0, false]);
  expect(readFileSync(file, "utf8")).toMatch(expected);
}

describe("an existing -o file is replaced only with --force (built CLI)", () => {
  it("ca export -o", () => {
    const file = path.join(dir, "ca.pem");
    refusesThenForces(["ca", "export", "-o", file], file, /^-----BEGIN CERTIFICATE-----/);
    // stdout is not a file named "-"
    expect(cli(["ca", "export", "-o", "-"], env).stdout.toString()).toMatch(/^-----BEGIN CERTIFICATE-----/);
  });

  it("model key export -o", () => {
    const file = path.join(dir, "signing.pub.pem");
    refusesThenForces(["model", "key", "export", "models/signing", "-o", file], file, /^-----BEGIN PUBLIC KEY-----/);
  });

  it("logs read -o", () => {
    const logs = path.join(dir, "logs");
    expect(cli(["logs", "write", logs, "--key", "logs/app"], env, '{"class":"metadata","event":"request"}\n').status).toBe(0);
    const file = path.join(dir, "read.jsonl");
    refusesThenForces(["logs", "read", logs, "-o", file], file, /"event":"request"/);
  });

  it("audit anchor -o and --export-key", () => {
    const anchor = path.join(dir, "anchor.json");
    refusesThenForces(["audit", "anchor", "-o", anchor], anchor, /"payloadType"/);
    const key = path.join(dir, "anchor-key.pem");
    const fresh = path.join(dir, "anchor2.json");
    refusesThenForces(["audit", "anchor", "-o", fresh, "--export-key", key], key, /^-----BEGIN PUBLIC KEY-----/);
    // a refused --export-key writes no anchor either: the command did nothing
    writeFileSync(key, KEEP);
    const third = path.join(dir, "anchor3.json");
    expect(cli(["audit", "anchor", "-o", third, "--export-key", key], env).status).toBe(2);
    expect(() => readFileSync(third)).toThrow(/ENOENT/);
  });
});
