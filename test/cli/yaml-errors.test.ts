/**
 * Issue 23: a broken YAML file (trust file, keyservice.yaml, pipeline map) is one error line
 * naming the file, line and column of the problem, never the parser's multi-line excerpt.
 */
import { writeFileSync } from "node:fs";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { parseYaml } from "../../src/io/yaml.js";
import { tempDir } from "../helpers/keystore.js";
import { cli } from "./run-cli.js";

const dir = tempDir("pipeseal-yaml-");
const env = { PIPESEAL_HOME: path.join(dir, ".pipeseal"), PIPESEAL_PRINCIPAL: "alice" };
const oneLine = (stderr: string | Buffer) => {
  const text = stderr.toString();
  expect(text.endsWith("\n")).toBe(true);
  expect(text.trimEnd().split("\n")).toHaveLength(1);
  expect(text).not.toContain("\\n");
  return text;
};

describe("YAML errors are one line with file:line:col", () => {
  it("the reader: the line and column of a flow map left open on line 3, and of a duplicate key", () => {
    expect(() => parseYaml("a: 1\nb: 2\nc: {d: [1,\n", "f.yaml")).toThrow(/^f\.yaml:\d+:\d+: YAML: /);
    expect(() => parseYaml("a: 1\nb: 2\nc: {d: 1\ne: 2\n", "f.yaml")).toThrow(/^f\.yaml:(3|4|5):\d+: YAML: /); // not line 1
    expect(() => parseYaml("a: 1\na: 2\n", "dup.yaml")).toThrow(/^dup\.yaml:2:1: YAML: Map keys must be unique/);
    expect(parseYaml("models: { churn: [a.pem] }\n", "ok.yaml")).toEqual({ models: { churn: ["a.pem"] } });
    // a wrong file given as a policy (here, secrets): its content never reaches the message
    expect(() => parseYaml('# env\nAPI_KEY=sk-live-123456\n"x": [\n', "prod.env")).toThrow(/^prod\.env:\d+:\d+: YAML: /);
    expect(() => parseYaml('# env\nAPI_KEY=sk-live-123456\n"x": [\n', "prod.env")).not.toThrow(/sk-live/);
  });

  it("a secrets file given as a fields policy: the error names the line, never the content", () => {
    const secrets = path.join(dir, "prod.env");
    writeFileSync(secrets, "OPENAI_API_KEY=sk-live-0123456789abcdef\nmore text here\n");
    const r = cli(["fields", "apply", "--policy", secrets, "-", "--format", "jsonl"], env, "{}\n");
    expect(r.status).toBe(2);
    expect(oneLine(r.stderr)).not.toContain("sk-live");
  });

  it("a fields policy and a monitor.yaml with a flow map left open on line 5: the parser's line:col, as parseYaml gives it, never line 1 or the text", () => {
    // the parser notices the open map where the next line starts (line 6) or at the end of line 5
    const where = (text: string, name: string) => {
      try {
        parseYaml(text, name);
      } catch (e) {
        return /^[^:]+:(\d+):(\d+): /
          .exec((e as Error).message)!
          .slice(1)
          .join(":");
      }
      throw new Error("parseYaml accepted broken YAML");
    };
    const policy = path.join(dir, "open-map.policy.yaml");
    const policyText =
      "version: 1\nnamespace: customers\nkey: fields/pii\nrules:\n  - { field: email, action: deterministic\n  - { field: card, action: mask }\n";
    writeFileSync(policy, policyText);
    const pos = where(policyText, "p");
    expect(pos).toMatch(/^[56]:\d+$/);
    const f = cli(["fields", "apply", "--policy", policy, "-", "--format", "jsonl"], env, "{}\n");
    expect(f.status).toBe(2);
    expect(oneLine(f.stderr)).toBe(
      `pipeseal: ${policy}:${pos}: YAML: Flow map in block collection must be sufficiently indented and end with a } [INVALID_ARGUMENT]\n`,
    );
    const monitor = path.join(dir, "monitor.yaml");
    const monitorText = "version: 1\nlearn:\n  days: 14\ndedupe: 1h\nstate: { file: monitor.state.pseal, key: SECRET-TEXT-x9\nsinks:\n  - kind: stdout\n";
    writeFileSync(monitor, monitorText);
    const mpos = where(monitorText, "m");
    expect(mpos).toMatch(/^[56]:\d+$/);
    const m = cli(["monitor", "check", "--config", monitor, "--audit", "-"], env, "");
    expect(m.status).toBe(2);
    expect(oneLine(m.stderr)).toBe(
      `pipeseal: monitor.yaml:${mpos}: YAML: Flow map in block collection must be sufficiently indented and end with a } [MONITOR_CONFIG_INVALID]\n`,
    );
    expect(m.stderr).not.toContain("SECRET-TEXT");
  });

  it("model verify --trust with a broken trust file; serve --config with a broken keyservice.yaml", () => {
    expect(cli(["init"], env).status).toBe(0);
    const trust = path.join(dir, "trust.yaml");
    writeFileSync(trust, "models:\n  churn: [\n");
    writeFileSync(path.join(dir, "sig.json"), "{}");
    const r = cli(["model", "verify", dir, "--sig", path.join(dir, "sig.json"), "--trust", trust], env);
    expect(r.status).toBe(2);
    expect(oneLine(r.stderr)).toMatch(/^pipeseal: trust file .*trust\.yaml:3:1: YAML: .* \[INVALID_ARGUMENT\]\n$/);
    const config = path.join(dir, "keyservice.yaml");
    writeFileSync(config, "listen: { host: 127.0.0.1\ncertDir: certs\n");
    const s = cli(["serve", "--config", config], env);
    expect(s.status).toBe(2);
    expect(oneLine(s.stderr)).toMatch(/^pipeseal: keyservice config: .*keyservice\.yaml:\d+:\d+: YAML: .* \[INVALID_ARGUMENT\]\n$/);
  });
});
