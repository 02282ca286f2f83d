import { mkdirSync, symlinkSync } from "node:fs";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { scan, stripAnsi } from "../../src/scan/index.js";
import { SECRET, TEST_DETECTORS, tree } from "./helpers.js";

const leak = `api_key = "${SECRET}"\n`;
const paths = (r: Awaited<ReturnType<typeof scan>>) => r.findings.map((f) => f.path).sort();

describe("walking a tree", () => {
  it("honours .gitignore at every level, with negations, and skips .git/", async () => {
    const root = tree({
      ".gitignore": "*.log\nbuild/\n",
      "keep.py": leak,
      "debug.log": leak,
      "build/out.py": leak,
      "sub/.gitignore": "!important.log\nsecret-*.txt\n",
      "sub/important.log": leak,
      "sub/other.log": leak,
      "sub/secret-1.txt": leak,
      "sub/deeper/secret-2.txt": leak,
      "sub/deeper/fine.txt": leak,
      ".git/config": leak,
    });
    const r = await scan(["."], { detectors: TEST_DETECTORS, root });
    expect(paths(r)).toEqual(["keep.py", "sub/deeper/fine.txt", "sub/important.log"]);
    const all = await scan(["."], { detectors: TEST_DETECTORS, root, gitignore: false });
    expect(paths(all)).toHaveLength(8); // everything but .git/
  });

  it("applies the enclosing repository's .gitignore when scanning a subfolder", async () => {
    const root = tree({ ".gitignore": "*.env\n", ".git/HEAD": "ref: refs/heads/main\n", "app/.env": leak, "app/a.py": leak });
    const r = await scan(["app"], { detectors: TEST_DETECTORS, root });
    expect(paths(r)).toEqual(["app/a.py"]);
  });

  it("skips binary files (counted) and large files (noted), and does not follow symlinks", async () => {
    const root = tree({ "bin.dat": Buffer.concat([Buffer.from(leak), Buffer.from([0, 1, 2])]), "big.txt": leak + "x".repeat(2000), "ok.txt": leak });
    mkdirSync(path.join(root, "real"));
    symlinkSync(path.join(root, "ok.txt"), path.join(root, "link.txt"));
    symlinkSync(path.join(root, "real"), path.join(root, "loop"));
    const r = await scan(["."], { detectors: TEST_DETECTORS, root, maxFileSize: 1000 });
    expect(paths(r)).toEqual(["ok.txt"]);
    expect(r.stats).toMatchObject({ files: 1, skippedBinary: 1, skippedLarge: 1 });
    expect(r.notes.map((n) => [n.path, n.kind]).sort()).toEqual([
      ["big.txt", "too-large"],
      ["link.txt", "symlink"],
      ["loop", "symlink"],
    ]);
  });

  it("strips ANSI colour codes from CI logs before scanning, and reports line and column", async () => {
    const log = "\x1b[32m##[group]Run tests\x1b[0m\n" + `\x1b[1;33mwarn\x1b[0m api_key = "\x1b[31m${SECRET}\x1b[0m"\n`;
    expect(stripAnsi(log)).toBe(`##[group]Run tests\nwarn api_key = "${SECRET}"\n`);
    const r = await scan(["ci.log"], { detectors: TEST_DETECTORS, root: tree({ "ci.log": log }) });
    expect(r.findings.map((f) => [f.line, f.column])).toEqual([[2, 17]]);
  });

  it("throws for a path that does not exist", async () => {
    await expect(scan(["nope"], { detectors: TEST_DETECTORS, root: tree({}) })).rejects.toMatchObject({ code: "ENOENT" });
  });
});
