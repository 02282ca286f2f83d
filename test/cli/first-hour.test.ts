/** A newcomer's rough edges (issue 23): every user mistake is one typed line, never an internal error. */
import { execFileSync } from "node:child_process";
import { mkdirSync, writeFileSync } from "node:fs";
import path from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import { tempDir } from "../helpers/keystore.js";
import { CLI, cli } from "./run-cli.js";

const oneLine = (stderr: string, code: string) => {
  expect(stderr.trim().split("\n")).toHaveLength(1);
  expect(stderr).toMatch(new RegExp(`^pipeseal: .*\\[${code}\\]\\n$`));
  expect(stderr).not.toMatch(/internal error| {4}at /);
};

describe("a newcomer's first hour (built CLI)", () => {
  const home = tempDir();
  const env = { PIPESEAL_HOME: path.join(home, ".pipeseal") };
  beforeAll(() => {
    expect(cli(["init"], env).status).toBe(0);
    expect(cli(["key", "create", "k"], env).status).toBe(0);
  });

  it("commander's own errors take pipeseal's one-line form: unknown options are named with a suggestion, before missing required ones", () => {
    const typo = cli(["encrypt", "--kye", "k", "f"], env);
    expect(typo.status).toBe(2);
    oneLine(typo.stderr, "INVALID_ARGUMENT");
    expect(typo.stderr).toMatch(/unknown option '--kye' \(Did you mean --key\?\)/);
    const missing = cli(["encrypt", "f"], env);
    expect(missing.status).toBe(2);
    oneLine(missing.stderr, "INVALID_ARGUMENT");
    expect(missing.stderr).toMatch(/required option '-k, --key <name>' not specified/);
    const late = cli(["key", "list", "--home", "x"], env);
    expect(late.status).toBe(2);
    oneLine(late.stderr, "INVALID_ARGUMENT");
    expect(late.stderr).toMatch(/--home is a global option: give it before the command/);
    const unknown = cli(["encrpyt", "f"], env);
    expect(unknown.status).toBe(2);
    oneLine(unknown.stderr, "INVALID_ARGUMENT");
    expect(unknown.stderr).toMatch(/unknown command 'encrpyt' \(Did you mean encrypt\?\)/);
  });

  it("a folder given as a file is a usage error for encrypt, decrypt and inspect", () => {
    const dir = path.join(home, "adir");
    mkdirSync(dir, { recursive: true });
    for (const args of [
      ["encrypt", "--key", "k", dir],
      ["decrypt", dir, "-o", "-"],
      ["inspect", dir],
    ]) {
      const r = cli(args, env);
      expect(r.status).toBe(2);
      oneLine(r.stderr, "INVALID_ARGUMENT");
      expect(r.stderr).toContain("is a folder");
    }
  });

  it("empty stdin to decrypt says it is empty, not 'bad magic'", () => {
    const r = cli(["decrypt", "-"], env, Buffer.alloc(0));
    expect(r.status).toBe(6);
    oneLine(r.stderr, "NOT_SEALED");
    expect(r.stderr).toContain("the input is empty");
  });

  it("encrypt refuses to write ciphertext to a terminal unless forced; a pipe is fine", () => {
    const input = path.join(home, "plain.txt");
    writeFileSync(input, "hello\n");
    // `script` gives the CLI a real pseudo-terminal as stdout
    const run = (extra: string) =>
      execFileSync("script", ["-qec", `${process.execPath} ${CLI} encrypt --key k ${input} -o - ${extra}; echo "exit=$?"`, "/dev/null"], {
        env: { ...process.env, ...env },
      }).toString();
    const refused = run("");
    expect(refused).toContain("refusing to write a sealed file to the terminal");
    expect(refused).toContain("exit=2");
    expect(run("--force")).toContain("exit=0");
    const piped = cli(["encrypt", "--key", "k", input, "-o", "-"], env);
    expect(piped.status).toBe(0);
    expect(cli(["decrypt", "-"], env, piped.stdout).stdout.toString()).toBe("hello\n");
  });
});
