/**
 * `pipeseal completion`: the bash script is loaded into a real bash and asked what it
 * completes; zsh and fish scripts are generated from the same command tree (and checked by
 * their shells when installed here).
 */
import { spawnSync } from "node:child_process";
import { describe, expect, it } from "vitest";
import { cli } from "./run-cli.js";

const bashScript = cli(["completion", "bash"], {}).stdout.toString();

/** What the loaded bash completion offers for a command line whose last word is being typed. */
function complete(line: string): string[] {
  const words = line.split(" ");
  const script = `${bashScript}\nCOMP_WORDS=(${words.map((w) => `'${w}'`).join(" ")}); COMP_CWORD=${words.length - 1}; _pipeseal; printf '%s\\n' "\${COMPREPLY[@]}"`;
  const r = spawnSync("bash", ["--norc", "-c", script], { encoding: "utf8" });
  expect(r.status, r.stderr).toBe(0);
  return r.stdout.split("\n").filter(Boolean);
}

describe("pipeseal completion (built CLI, real bash)", () => {
  it("completes commands, subcommands and each command's own options", () => {
    expect(complete("pipeseal ke")).toEqual(["key"]);
    expect(complete("pipeseal key ro")).toEqual(["rotate"]);
    expect(complete("pipeseal --home .ps key ro")).toEqual(["rotate"]);
    expect(complete("pipeseal encrypt --k")).toEqual(["--key"]);
    expect(complete("pipeseal monitor ch")).toEqual(["check"]);
    expect(complete("pipeseal audit verify --anc")).toEqual(["--anchor"]);
    // an option of another command is not offered
    expect(complete("pipeseal decrypt --ke")).toEqual([]);
    expect(complete("pipeseal comp")).toEqual(["completion"]);
  });

  it("zsh and fish scripts name the same commands; an unknown shell is a usage error", () => {
    const zsh = cli(["completion", "zsh"], {});
    expect(zsh.status).toBe(0);
    expect(zsh.stdout.toString()).toMatch(/^#compdef pipeseal/);
    expect(zsh.stdout.toString()).toContain("bashcompinit");
    const fish = cli(["completion", "fish"], {}).stdout.toString();
    expect(fish).toContain("-n '__fish_use_subcommand' -a key ");
    expect(fish).toContain("-n '__fish_seen_subcommand_from key; and not __fish_seen_subcommand_from create rotate");
    for (const [shell, text] of [
      ["zsh", zsh.stdout.toString()],
      ["fish", fish],
    ] as const) {
      const has = spawnSync("sh", ["-c", `command -v ${shell}`]).status === 0;
      if (has) expect(spawnSync(shell, shell === "fish" ? ["--no-execute"] : ["-n"], { input: text }).status).toBe(0);
    }
    const bad = cli(["completion", "tcsh"], {});
    expect(bad.status).toBe(2);
    expect(bad.stderr.toString()).toContain("use bash, zsh or fish [INVALID_ARGUMENT]");
  });
});
