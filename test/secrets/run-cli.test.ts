import { spawn, spawnSync, type ChildProcess } from "node:child_process";
import { createHash } from "node:crypto";
import { existsSync, readFileSync, statSync, writeFileSync } from "node:fs";
import path from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import { CLI, cli } from "../cli/run-cli.js";
import { tempDir } from "../helpers/keystore.js";

const PY = "/usr/bin/python3";
const SECRET = "sk-live-9fQ2xL7mB4nV8cZ1kH6jD3sA5gT0wE";
const SECRET2 = '{"type":"service_account","private_key":"-----BEGIN KEY-----\\nMIIBVwIBADAN\\n-----END KEY-----\\n"}';
let env: Record<string, string>;
let dir: string;

beforeAll(() => {
  dir = tempDir("pipeseal-run-");
  env = { PIPESEAL_HOME: path.join(dir, "ks"), PIPESEAL_PRINCIPAL: "trainer" };
  expect(cli(["init"], env).status).toBe(0);
  expect(cli(["secret", "set", "llm/openai"], env, SECRET + "\n").status).toBe(0);
  writeFileSync(path.join(dir, "sa.json"), SECRET2);
  expect(cli(["secret", "set", "gcp/sa", "--from-file", path.join(dir, "sa.json")], env).status).toBe(0);
  expect(cli(["secret", "set", "ci/old"], env, "old-value-aaaaaaaaaaaa").status).toBe(0);
  expect(cli(["secret", "set", "ci/old"], env, "new-value-bbbbbbbbbbbb").status).toBe(0);
  expect(cli(["secret", "disable", "ci/old", "--version", "1"], env).status).toBe(0);
});

function start(
  args: string[],
  extraEnv: Record<string, string> = {},
): { child: ChildProcess; out: Promise<{ code: number | null; stdout: string; stderr: string }> } {
  const child = spawn(process.execPath, [CLI, ...args], { env: { PATH: process.env.PATH ?? "", ...env, ...extraEnv }, stdio: ["ignore", "pipe", "pipe"] });
  let stdout = "";
  let stderr = "";
  child.stdout!.on("data", (c) => (stdout += c));
  child.stderr!.on("data", (c) => (stderr += c));
  const out = new Promise<{ code: number | null; stdout: string; stderr: string }>((resolve) => child.on("close", (code) => resolve({ code, stdout, stderr })));
  return { child, out };
}

async function waitFor(file: string): Promise<string> {
  for (let i = 0; i < 400; i++) {
    if (existsSync(file) && readFileSync(file, "utf8").endsWith("\n")) return readFileSync(file, "utf8");
    await new Promise((r) => setTimeout(r, 25));
  }
  throw new Error(`timed out waiting for ${file}`);
}

const sha = (s: string) => createHash("sha256").update(s).digest("hex");

describe("pipeseal run", () => {
  it("the child gets the secret; pipeseal's own environ and cmdline never hold it, while the child runs", async () => {
    const ready = path.join(dir, "ready1");
    const script = `import os,hashlib,time\nopen(${JSON.stringify(ready)},"w").write(str(os.getpid())+"\\n")\nprint(hashlib.sha256(os.environ["OPENAI_API_KEY"].encode()).hexdigest(), flush=True)\ntime.sleep(1.5)\n`;
    const { child, out } = start(["run", "--secret", "OPENAI_API_KEY=llm/openai", "--", PY, "-c", script]);
    const childPid = Number((await waitFor(ready)).trim());
    const environ = readFileSync(`/proc/${child.pid}/environ`);
    const cmdline = readFileSync(`/proc/${child.pid}/cmdline`);
    expect(environ.includes(Buffer.from(SECRET))).toBe(false);
    expect(cmdline.includes(Buffer.from(SECRET))).toBe(false);
    expect(readFileSync(`/proc/${childPid}/environ`).includes(Buffer.from(`OPENAI_API_KEY=${SECRET}`))).toBe(true); // the search finds it where it is
    const r = await out;
    expect(r.code).toBe(0);
    expect(r.stdout.trim()).toBe(sha(SECRET));
    const audit = JSON.parse(cli(["audit", "list", "--json"], env).stdout.toString()) as { operation: string; principal: string; context: string | null }[];
    const read = audit.filter((a) => a.operation === "secret.read").at(-1)!;
    expect(read.principal).toBe("trainer");
    expect(JSON.parse(read.context!).for).toMatch(/^run: \/usr\/bin\/python3 -c/);
  });

  it("masks the secret in stdout and stderr, split across two writes and in base64, as [SECRET:name]", async () => {
    const half = SECRET.length >> 1;
    const script = [
      "import sys,time,base64,json",
      `s=${JSON.stringify(SECRET)}`,
      `sys.stdout.write("key="+s[:${half}]); sys.stdout.flush(); time.sleep(0.3)`,
      `sys.stdout.write(s[${half}:]+"\\n"); sys.stdout.flush()`,
      `print("b64="+base64.b64encode(s.encode()).decode(), flush=True)`,
      `print(json.dumps({"k": s}), file=sys.stderr, flush=True)`,
    ].join("\n");
    const { out } = start(["run", "--secret", "K=llm/openai", "--", PY, "-c", script]);
    const r = await out;
    expect(r.code).toBe(0);
    expect(r.stdout).toBe("key=[SECRET:llm/openai]\nb64=[SECRET:llm/openai]\n");
    expect(r.stderr).toContain('{"k": "[SECRET:llm/openai]"}');
    const raw = start(["run", "--no-mask", "--secret", "K=llm/openai", "--", "sh", "-c", 'printf "%s" "$K"']);
    expect((await raw.out).stdout).toBe(SECRET);
  });

  it("returns the child's exit status, 128+signal when a signal ends it, and forwards SIGTERM", async () => {
    expect(cli(["run", "--", "sh", "-c", "exit 3"], env).status).toBe(3);
    expect(cli(["run", "--", "sh", "-c", "kill -KILL $$"], env).status).toBe(137);
    const ready = path.join(dir, "ready2");
    const script = `import signal,sys,time\ndef h(n,f):\n  print("got",n,flush=True); sys.exit(7)\nsignal.signal(signal.SIGTERM,h)\nsignal.signal(signal.SIGHUP,h)\nopen(${JSON.stringify(ready)},"w").write("x\\n")\ntime.sleep(10)\n`;
    const { child, out } = start(["run", "--secret", "K=llm/openai", "--", PY, "-c", script]);
    await waitFor(ready);
    child.kill("SIGTERM");
    const r = await out;
    expect([r.code, r.stdout.trim()]).toEqual([7, "got 15"]);
  });

  it("a child ended by a forwarded signal still has its secret file removed, and 128+signal is returned", async () => {
    const ready = path.join(dir, "ready3");
    const script = `import os,time\nopen(${JSON.stringify(ready)},"w").write(os.environ["F"]+"\\n")\ntime.sleep(10)\n`;
    const { child, out } = start(["run", "--secret-file", "F=gcp/sa", "--", PY, "-c", script]);
    const file = (await waitFor(ready)).trim();
    expect(readFileSync(file, "utf8")).toBe(SECRET2);
    child.kill("SIGHUP");
    expect((await out).code).toBe(129);
    expect(existsSync(file)).toBe(false);
  });

  it("no audit record, warning or error message holds a value", () => {
    const audit = cli(["audit", "list", "--json"], env).stdout.toString();
    expect(audit).toContain("secret.read");
    for (const v of [SECRET, SECRET2, "new-value-bbbbbbbbbbbb"]) expect(audit.includes(v)).toBe(false);
  });

  it("a missing or disabled secret starts nothing (typed error, exit 2 or 7)", () => {
    const marker = path.join(dir, "started");
    const missing = cli(["run", "--secret", "A=llm/openai", "--secret", "B=llm/missing", "--", "touch", marker], env);
    expect([missing.status, missing.stderr.trim()]).toEqual([2, "pipeseal: no secret llm/missing [SECRET_NOT_FOUND]"]);
    const disabled = cli(["run", "--secret", "A=ci/old@1", "--", "touch", marker], env);
    expect(disabled.status).toBe(7);
    expect(disabled.stderr).toContain("[SECRET_DISABLED]");
    expect(existsSync(marker)).toBe(false);
    expect(cli(["run", "--secret", "A=ci/old@2", "--", "touch", marker], env).status).toBe(0);
    expect(existsSync(marker)).toBe(true);
  });

  it("--secret-file: a 0600 file in a private 0700 folder on tmpfs, with the exact content, removed when the child exits", async () => {
    const report = path.join(dir, "file-report");
    const script = `import os,stat,json\np=os.environ["GOOGLE_APPLICATION_CREDENTIALS"]\nd=os.path.dirname(p)\nopen(${JSON.stringify(report)},"w").write(json.dumps({"p":p,"mode":oct(stat.S_IMODE(os.stat(p).st_mode)),"dmode":oct(stat.S_IMODE(os.stat(d).st_mode)),"twice":open(p).read()==open(p).read(),"ok":open(p).read()==${JSON.stringify(SECRET2)}})+"\\n")\n`;
    const r = cli(["run", "--secret-file", "GOOGLE_APPLICATION_CREDENTIALS=gcp/sa", "--", PY, "-c", script], env);
    expect(r.status).toBe(0);
    const seen = JSON.parse(readFileSync(report, "utf8")) as { p: string; mode: string; dmode: string; twice: boolean; ok: boolean };
    expect(seen).toMatchObject({ mode: "0o600", dmode: "0o700", twice: true, ok: true });
    expect(seen.p.startsWith("/dev/shm/pipeseal-run-")).toBe(true);
    expect(existsSync(seen.p)).toBe(false);
    expect(existsSync(path.dirname(seen.p))).toBe(false);
  });

  it("without --pristine drops parent variables whose values look like secrets (warning names them); --pristine keeps only --env-allow", () => {
    const leaky = {
      AWS_SECRET_ACCESS_KEY: "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY",
      GITHUB_TOKEN: "ghp_aBcDeFgHiJkLmNoPqRsTuVwXyZ0123456789",
      PLAIN_SETTING: "hello",
      PIPESEAL_TOKEN: "tok",
    };
    const r = cli(["run", "--", "sh", "-c", 'echo "gh=${GITHUB_TOKEN:-unset} plain=$PLAIN_SETTING pt=${PIPESEAL_TOKEN:-unset}"'], { ...env, ...leaky });
    expect(r.status).toBe(0);
    expect(r.stdout.toString().trim()).toBe("gh=unset plain=hello pt=unset");
    expect(r.stderr).toMatch(/warning: not passing .*GITHUB_TOKEN/);
    expect(r.stderr).not.toContain("ghp_");
    const p = cli(["run", "--pristine", "--env-allow", "PATH", "--secret", "K=llm/openai", "--", PY, "-c", "import os; print(sorted(os.environ))"], {
      ...env,
      PLAIN_SETTING: "x",
    });
    expect(p.stdout.toString().trim()).toBe(
      "['K', 'LC_CTYPE', 'PATH']".replace("'LC_CTYPE', ", p.stdout.toString().includes("LC_CTYPE") ? "'LC_CTYPE', " : ""),
    );
  });

  it("runs no shell unless --shell; the child's argv is exactly the user's", () => {
    expect(cli(["run", "--", "echo", "$HOME", "a;b", "--secret", "x"], env).stdout.toString()).toBe("$HOME a;b --secret x\n");
    expect(cli(["run", "--shell", "--", "echo $((1+2)) $0 $1", "arg"], env).stdout.toString()).toBe("3 sh arg\n");
    expect(cli(["run", "--", "no-such-program-xyz"], env).stderr.trim()).toBe('pipeseal: cannot run "no-such-program-xyz": not found [CHILD_FAILED]');
  });
});

describe("pipeseal secret", () => {
  it("refuses a value on the command line, refuses a pipe without --to-stdout, and shows metadata only", () => {
    const argv = cli(["secret", "set", "x/y", "the-value"], env);
    expect([argv.status, argv.stderr]).toEqual([2, expect.stringContaining("never taken from the command line")]);
    expect(cli(["secret", "get", "llm/openai"], env).status).toBe(2);
    const piped = cli(["secret", "get", "llm/openai", "--reveal"], env);
    expect(piped.status).toBe(2);
    expect(piped.stdout.length).toBe(0);
    expect(cli(["secret", "get", "llm/openai", "--reveal", "--to-stdout"], env).stdout.toString()).toBe(SECRET);
    const shown = cli(["secret", "show", "llm/openai", "--json"], env).stdout.toString();
    expect(shown).not.toContain(SECRET);
    expect(JSON.parse(shown).lastRead).toMatchObject({ by: "trainer", for: "secret get --reveal --to-stdout" });
    const list = JSON.parse(cli(["secret", "list", "--json"], env).stdout.toString()) as { name: string }[];
    expect(list.map((s) => s.name)).toEqual(["ci/old", "gcp/sa", "llm/openai"]);
  });

  it('destroy without a terminal needs --yes (nothing is destroyed without it); with --yes it says "destroyed"', () => {
    const stateOf = (v: number) =>
      (JSON.parse(cli(["secret", "show", "ci/old", "--json"], env).stdout.toString()) as { versions: { version: number; state: string }[] }).versions.find(
        (x) => x.version === v,
      )?.state;
    const refused = cli(["secret", "destroy", "ci/old", "--version", "1"], env);
    expect([refused.status, refused.stderr]).toEqual([
      2,
      "pipeseal: this cannot be undone and there is no terminal to ask; add --yes to confirm (nothing was destroyed) [INVALID_ARGUMENT]\n",
    ]);
    expect(stateOf(1)).toBe("disabled");
    const done = cli(["secret", "destroy", "ci/old", "--version", "1", "--yes"], env);
    expect([done.status, done.stdout.toString()]).toEqual([0, "destroyed ci/old v1\n"]);
    expect(stateOf(1)).toBe("destroyed");
  });

  it("a destroyed version is unreadable", () => {
    const r = cli(["secret", "get", "ci/old", "--version", "1", "--reveal", "--to-stdout"], env);
    expect([r.status, r.stderr]).toEqual([7, expect.stringContaining("[SECRET_DESTROYED]")]);
    expect(statSync(path.join(env.PIPESEAL_HOME!, "keystore.db")).size).toBeGreaterThan(0);
  });
});

describe("the pipeseal executable (dist/cli/bin.js)", () => {
  const BIN = CLI.replace(/main\.js$/, "bin.js");
  const bin = (args: string[]) => {
    const r = spawnSync(process.execPath, [BIN, ...args], { env: { PATH: process.env.PATH ?? "", ...env } });
    return { status: r.status, stdout: r.stdout.toString(), stderr: r.stderr.toString() };
  };
  it("dispatches run (also after program options) to the small entry, and everything else to the full CLI", () => {
    expect(bin(["--home", env.PIPESEAL_HOME!, "run", "--secret", "K=llm/openai", "--", "sh", "-c", 'echo "$K"'])).toMatchObject({
      status: 0,
      stdout: "[SECRET:llm/openai]\n",
    });
    expect(bin(["run", "--secret", "K=llm/nope", "--", "true"])).toMatchObject({ status: 2, stderr: "pipeseal: no secret llm/nope [SECRET_NOT_FOUND]\n" });
    expect(JSON.parse(bin(["secret", "list", "--json"]).stdout)).toHaveLength(3);
  });
});
