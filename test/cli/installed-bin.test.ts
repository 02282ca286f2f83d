/**
 * Issue 23: the installed `pipeseal` works from any folder. The project is packed as npm
 * publishes it (`npm pack`: package.json "files", "bin"), the tarball is unpacked and installed
 * globally into a scratch prefix by npm itself (which links `bin` and makes it executable), and
 * `pipeseal` is run by name from PATH in an unrelated folder. Offline: the dependencies are not
 * downloaded but linked from this checkout's node_modules (the sandbox has no registry), and
 * install scripts (the native engine's build) are skipped, so the reference engine answers.
 * Two broken copies (no shebang, a wrong "bin" path) must fail the same check.
 */
import { spawnSync } from "node:child_process";
import { mkdirSync, readFileSync, realpathSync, symlinkSync, writeFileSync } from "node:fs";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { tempDir } from "../helpers/keystore.js";

const ROOT = path.join(import.meta.dirname, "..", "..");
const VERSION = (JSON.parse(readFileSync(path.join(ROOT, "package.json"), "utf8")) as { version: string }).version;
const dir = tempDir("pipeseal-installed-");
const elsewhere = path.join(dir, "elsewhere");
mkdirSync(elsewhere);

function run(cmd: string, args: string[], cwd: string, env: Record<string, string> = {}) {
  const r = spawnSync(cmd, args, {
    cwd,
    env: { PATH: process.env.PATH ?? "", HOME: dir, npm_config_cache: path.join(dir, "npm-cache"), ...env },
    encoding: "utf8",
    timeout: 30_000,
  });
  return { status: r.status, stdout: r.stdout ?? "", stderr: r.stderr ?? "", error: r.error };
}

/** Unpacks the tarball as `name/`, optionally breaks it, installs it into its own prefix; returns the prefix's bin folder. */
function install(tarball: string, name: string, breakIt?: (pkg: string) => void): string {
  const unpacked = path.join(dir, name);
  mkdirSync(unpacked);
  expect(run("tar", ["xzf", tarball, "-C", unpacked, "--strip-components=1"], dir).status).toBe(0);
  symlinkSync(realpathSync(path.join(ROOT, "node_modules")), path.join(unpacked, "node_modules"));
  breakIt?.(unpacked);
  const prefix = path.join(dir, `${name}-prefix`);
  const r = run("npm", ["install", "--global", "--prefix", prefix, unpacked, "--offline", "--ignore-scripts", "--no-audit", "--no-fund"], dir);
  expect(r.status, r.stderr).toBe(0);
  return path.join(prefix, "bin");
}

/** `pipeseal ARGS` by name, from PATH, in a folder that has nothing to do with pipeseal. */
const pipeseal = (bin: string, args: string[]) => run("pipeseal", args, elsewhere, { PATH: `${bin}:${path.dirname(process.execPath)}:/usr/bin:/bin` });

describe("the packed and installed pipeseal bin", () => {
  let tarball: string;

  it("npm pack makes a tarball holding the bin named in package.json", () => {
    const packed = run("npm", ["pack", "--pack-destination", dir, "--json"], ROOT);
    expect(packed.status, packed.stderr).toBe(0);
    const [info] = JSON.parse(packed.stdout) as { filename: string; files: { path: string }[] }[];
    tarball = path.join(dir, info!.filename);
    expect(info!.files.map((f) => f.path)).toContain("dist/cli/bin.js");
  }, 60_000);

  it("runs `pipeseal --version` and `pipeseal --help` from another folder", () => {
    const bin = install(tarball, "good");
    // what runs is the unpacked tarball, not this checkout
    expect(realpathSync(path.join(bin, "pipeseal"))).toBe(realpathSync(path.join(dir, "good", "dist", "cli", "bin.js")));
    const version = pipeseal(bin, ["--version"]);
    expect([version.status, version.stderr]).toEqual([0, ""]);
    expect(version.stdout).toMatch(new RegExp(`^${VERSION.replace(/\./g, "\\.")} \\(crypto engine: `));
    const help = pipeseal(bin, ["--help"]);
    expect(help.status).toBe(0);
    expect(help.stdout).toMatch(/^Usage: pipeseal \[options\] \[command\]/);
    expect(help.stdout).toMatch(/\n {2}encrypt /);
    // the command list is complete: `run` goes through its own small entry, the rest through the full CLI
    const runHelp = pipeseal(bin, ["run", "--help"]);
    expect([runHelp.status, runHelp.stdout]).toEqual([0, expect.stringMatching(/^Usage: pipeseal run /)]);
  }, 60_000);

  it('the same check fails for a bin without its shebang, and for a wrong "bin" path', () => {
    const noShebang = install(tarball, "no-shebang", (pkg) => {
      const file = path.join(pkg, "dist", "cli", "bin.js");
      writeFileSync(file, readFileSync(file, "utf8").replace(/^#!.*\n/, ""));
    });
    const a = pipeseal(noShebang, ["--version"]);
    expect([a.status === 0, a.stdout]).toEqual([false, ""]); // sh reads the JavaScript: a syntax error
    const wrongBin = install(tarball, "wrong-bin", (pkg) => {
      const file = path.join(pkg, "package.json");
      writeFileSync(file, readFileSync(file, "utf8").replace('"dist/cli/bin.js"', '"dist/bin.js"'));
    });
    const b = pipeseal(wrongBin, ["--version"]);
    expect([b.status === 0, b.stdout]).toEqual([false, ""]); // no pipeseal on PATH at all (ENOENT)
  }, 60_000);
});
