import { execFileSync, spawnSync } from "node:child_process";
import { createHash } from "node:crypto";
import { cpSync, mkdirSync, readFileSync, readdirSync, statSync, writeFileSync } from "node:fs";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { replaceWithEnvRead } from "../../src/scan/fix/literal.js";
import { ensurePythonOsImport } from "../../src/scan/fix/code.js";
import { unifiedDiff } from "../../src/scan/fix/index.js";
import { pipesealRun } from "../../src/scan/fix/run-line.js";
import { cli } from "../cli/run-cli.js";
import { tempDir } from "../helpers/keystore.js";

const OPENAI = "sk-proj-Zq8wX2vB7nM4kL9pR3tY6uI1oE5aS0dFgH";
const GITHUB = "ghp_aBcDeFgHiJkLmNoPqRsTuVwXyZ0123456789";
const HF = "hf_Xy7Qk2LmN9pR4sT6vW8zA1bC3dE5fG7hJ";
const ANTHROPIC = "sk-ant-api03-abcdefghijklmnopqrstuvwxyz0123456789ABCDEFGH";
const DB = "postgres://app:S3cr3tP4ssw0rdXyz@db.internal:5432/app";

function tree(dir: string): void {
  mkdirSync(path.join(dir, "src"), { recursive: true });
  writeFileSync(
    path.join(dir, "train.py"),
    `#!/usr/bin/env python3\n"""Train."""\nimport hashlib\n\nOPENAI_API_KEY = "${OPENAI}"\nheaders = {"Authorization": "Bearer ${OPENAI}"}\nprint(hashlib.sha256(OPENAI_API_KEY.encode()).hexdigest())\n`,
  );
  writeFileSync(
    path.join(dir, "src", "client.ts"),
    `const githubToken: string | undefined = "${GITHUB}";\nconst url = \`https://x:${GITHUB}@github.com\`;\nexport const auth = { githubToken, url };\n`,
  );
  writeFileSync(path.join(dir, ".env"), `# settings\nHF_TOKEN=${HF}\nDEBUG=1\nDB_URL="${DB}"\n`);
  writeFileSync(path.join(dir, "deploy.sh"), `#!/bin/bash\ncurl -H "Authorization: token ${GITHUB}" https://api.github.com\n`, { mode: 0o755 });
  const nb = {
    cells: [
      {
        id: "c1",
        cell_type: "code",
        execution_count: 3,
        metadata: {},
        outputs: [{ name: "stdout", output_type: "stream", text: [`key is ${ANTHROPIC}\n`] }],
        source: ["import anthropic\n", `client = anthropic.Anthropic(api_key="${ANTHROPIC}")\n`, "print('key is', client.api_key)"],
      },
      {
        id: "c2",
        cell_type: "code",
        execution_count: 4,
        metadata: {},
        outputs: [{ output_type: "execute_result", execution_count: 4, metadata: {}, data: { "text/plain": [`'${HF}'`] } }],
        source: ["import os\n", "os.environ.get('HF_TOKEN')"],
      },
      {
        id: "c3",
        cell_type: "code",
        execution_count: 5,
        metadata: {},
        outputs: [{ name: "stdout", output_type: "stream", text: ["42\n"] }],
        source: ["print(6*7)"],
      },
    ],
    metadata: { kernelspec: { name: "python3", display_name: "Python 3", language: "python" } },
    nbformat: 4,
    nbformat_minor: 5,
  };
  writeFileSync(path.join(dir, "nb.ipynb"), JSON.stringify(nb, null, 1) + "\n");
}

function snapshot(dir: string): Record<string, string> {
  const out: Record<string, string> = {};
  const walk = (d: string) => {
    for (const e of readdirSync(d, { withFileTypes: true })) {
      const p = path.join(d, e.name);
      if (e.isDirectory()) walk(p);
      else out[path.relative(dir, p)] = readFileSync(p, "utf8");
    }
  };
  walk(dir);
  return out;
}

describe("scan --fix", () => {
  it("patch prints a diff that `patch` applies to exactly what apply writes, and changes nothing; apply moves every secret", () => {
    const base = tempDir("pipeseal-fix-");
    const repo = path.join(base, "repo");
    tree(repo);
    const env = { PIPESEAL_HOME: path.join(base, "ks"), PIPESEAL_PRINCIPAL: "dev" };
    expect(cli(["init"], env).status).toBe(0);
    const before = snapshot(repo);
    const run = (args: string[]) => {
      const r = spawnSync(process.execPath, [path.resolve("dist/cli/main.js"), ...args], { cwd: repo, env: { PATH: process.env.PATH ?? "", ...env } });
      return { status: r.status, stdout: r.stdout.toString(), stderr: r.stderr.toString() };
    };
    expect(run(["scan", "."]).status).toBe(8);

    const patch = run(["scan", ".", "--fix=patch"]);
    expect(patch.status).toBe(0);
    expect(snapshot(repo)).toEqual(before);
    expect(JSON.parse(cli(["secret", "list", "--json"], env).stdout.toString())).toEqual([]);
    for (const v of [OPENAI, GITHUB, HF, ANTHROPIC, DB]) expect(patch.stderr).not.toContain(v);
    expect(patch.stdout).toContain('+OPENAI_API_KEY = os.environ["OPENAI_API_KEY"]');

    const copy = path.join(base, "copy");
    cpSync(repo, copy, { recursive: true });
    execFileSync("patch", ["-p1", "-s"], { cwd: copy, input: patch.stdout });

    const apply = run(["scan", ".", "--fix=apply"]);
    expect(apply.status).toBe(0);
    expect(apply.stderr).toContain("still in your git history");
    const after = snapshot(repo);
    expect(snapshot(copy)).toEqual(after);
    for (const [file, text] of Object.entries(after))
      for (const v of [OPENAI, GITHUB, HF, ANTHROPIC, DB]) expect([file, text.includes(v)]).toEqual([file, false]);
    expect(statSync(path.join(repo, "deploy.sh")).mode & 0o777).toBe(0o755);

    // a rescan finds nothing
    const rescan = run(["scan", ".", "--json"]);
    expect([rescan.status, JSON.parse(rescan.stdout).findings]).toEqual([0, []]);

    // the code reads the variables
    expect(after["train.py"]).toContain('headers = {"Authorization": "Bearer " + os.environ["OPENAI_API_KEY"]}');
    expect(after["train.py"]!.split("\n").slice(0, 4)).toEqual(["#!/usr/bin/env python3", '"""Train."""', "import os", "import hashlib"]);
    expect(after["src/client.ts"]).toBe(
      "const githubToken: string | undefined = process.env.GITHUB_TOKEN;\nconst url = `https://x:${process.env.GITHUB_TOKEN}@github.com`;\nexport const auth = { githubToken, url };\n",
    );
    expect(after["deploy.sh"]).toContain('"Authorization: token ${GITHUB_TOKEN}"');
    expect(after[".env"]).toMatch(
      /^# settings\n# HF_TOKEN moved to the pipeseal secret store as repo\/hf-token; run with: pipeseal run --secret HF_TOKEN=repo\/hf-token -- <command>\nDEBUG=1\n# DB_URL moved/,
    );

    // the notebook is valid nbformat 4, the outputs that showed a secret are cleared, the others kept
    const nb = JSON.parse(after["nb.ipynb"]!);
    expect([nb.nbformat, nb.cells[0].outputs, nb.cells[0].execution_count, nb.cells[1].outputs, nb.cells[2].outputs.length]).toEqual([4, [], null, [], 1]);
    expect(nb.cells[0].source.join("")).toContain('api_key=os.environ["ANTHROPIC_API_KEY"]');
    execFileSync("/usr/bin/python3", ["-c", "import nbformat,sys; nbformat.validate(nbformat.read(sys.argv[1], as_version=4))", path.join(repo, "nb.ipynb")]);

    // the stored secrets hold the original values, and the printed run line runs the fixed program
    const names = (JSON.parse(cli(["secret", "list", "--json"], env).stdout.toString()) as { name: string }[]).map((s) => s.name).sort();
    expect(names).toEqual(["repo/anthropic-api-key", "repo/db-url", "repo/github-token", "repo/hf-token", "repo/openai-api-key"]);
    expect(cli(["secret", "get", "repo/db-url", "--reveal", "--to-stdout"], env).stdout.toString()).toBe(DB);
    const line = apply.stdout
      .split("\n")
      .find((l) => l.trim().startsWith("pipeseal run") && l.endsWith("python3 train.py"))!
      .trim();
    const argv = line
      .split(" ")
      .slice(1)
      .map((a) => (a === "python3" ? "/usr/bin/python3" : a));
    const ran = run(argv);
    expect([ran.status, ran.stdout.trim()]).toEqual([0, createHash("sha256").update(OPENAI).digest("hex")]);
  });

  it("resolves name collisions with the store and between values", () => {
    const base = tempDir("pipeseal-fix2-");
    const repo = path.join(base, "repo");
    mkdirSync(repo);
    writeFileSync(path.join(repo, "a.py"), `token = "${GITHUB}"\n`);
    writeFileSync(path.join(repo, "b.py"), `token = "ghp_ZyXwVuTsRqPoNmLkJiHgFeDcBa9876543210"\n`);
    const env = { PIPESEAL_HOME: path.join(base, "ks") };
    expect(cli(["init"], env).status).toBe(0);
    expect(cli(["secret", "set", "repo/github-token"], env, "taken-already").status).toBe(0);
    const r = spawnSync(process.execPath, [path.resolve("dist/cli/main.js"), "scan", ".", "--fix=apply"], {
      cwd: repo,
      env: { PATH: process.env.PATH ?? "", ...env },
    });
    expect(r.status).toBe(0);
    expect(readFileSync(path.join(repo, "a.py"), "utf8")).toBe('import os\ntoken = os.environ["GITHUB_TOKEN"]\n');
    expect(readFileSync(path.join(repo, "b.py"), "utf8")).toBe('import os\ntoken = os.environ["GITHUB_TOKEN_B"]\n');
    const names = (JSON.parse(cli(["secret", "list", "--json"], env).stdout.toString()) as { name: string }[]).map((s) => s.name);
    expect(names).toEqual(["repo/github-token", "repo/github-token-a", "repo/github-token-b"]);
    expect(cli(["secret", "get", "repo/github-token", "--reveal", "--to-stdout"], env).stdout.toString()).toBe("taken-already");
  });
});

describe("literal rewriting", () => {
  const S = "SECRETVALUE123";
  const at = (t: string) => [t.indexOf(S), t.indexOf(S) + S.length] as const;
  const fix = (t: string, lang: "python" | "js" | "shell") => replaceWithEnvRead(t, ...at(t), "V", lang);
  it.each([
    [`x = '${S}'`, "python", `x = os.environ['V']`],
    [`x = b"${S}"`, "python", `x = os.environ["V"].encode()`],
    [`x = f"pre {y} ${S}"`, "python", `x = f"pre {y} {os.environ['V']}"`],
    [`x = r"a${S}b"`, "python", `x = r"a" + os.environ["V"] + r"b"`],
    [`x = """${S}"""`, "python", undefined],
    [`# comment "${S}"`, "python", undefined],
    [`const x = '${S}';`, "js", `const x = process.env.V;`],
    [`f("a\\"${S}")`, "js", `f("a\\"" + process.env.V)`],
    [`T=${S}`, "shell", `T="$V"`],
    [`curl -u 'me:${S}' x`, "shell", `curl -u 'me:'"\${V}" x`],
  ] as const)("%s (%s)", (input, lang, expected) => {
    expect(fix(input, lang)).toBe(expected);
  });
  it("inserts `import os` after a shebang, docstring and __future__ imports, once", () => {
    expect(ensurePythonOsImport('#!/x\n"""doc\nmore"""\nfrom __future__ import annotations\nx = 1\n')).toBe(
      '#!/x\n"""doc\nmore"""\nfrom __future__ import annotations\nimport os\nx = 1\n',
    );
    expect(ensurePythonOsImport("import sys, os\nx = 1\n")).toBe("import sys, os\nx = 1\n");
  });
  it("diffs what `patch` accepts, for changes far apart", () => {
    const a = Array.from({ length: 40 }, (_, i) => `line ${i}`).join("\n") + "\n";
    const b = a.replace("line 2\n", "line 2 changed\n").replace("line 30\n", "").replace("line 39\n", "line 39\nadded\n");
    const dir = tempDir("pipeseal-diff-");
    writeFileSync(path.join(dir, "f.txt"), a);
    execFileSync("patch", ["-p1", "-s"], { cwd: dir, input: unifiedDiff("f.txt", a, b) });
    expect(readFileSync(path.join(dir, "f.txt"), "utf8")).toBe(b);
  });
});

describe("run lines", () => {
  it("start with the program options that reach the store, quoted for the shell where needed", () => {
    expect(pipesealRun()).toBe("pipeseal run");
    expect(pipesealRun(["--server", "https://keys.internal:8443", "--cert", "certs/my trainer's/"])).toBe(
      "pipeseal --server https://keys.internal:8443 --cert 'certs/my trainer'\\''s/' run",
    );
  });
});
