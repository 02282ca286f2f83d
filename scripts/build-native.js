#!/usr/bin/env node
// Builds the native crypto engine (native/floe.c -> build/Release/pipeseal_floe.node) with
// node-gyp, as npm's "install" step. It never fails the install: without a compiler, the
// OpenSSL 3 headers (Debian: libssl-dev) or Node's headers, pipeseal runs on its reference
// engine (node:crypto) and says so here, once; `pipeseal --version` names the engine in use.
// `--strict` (npm run build:native) exits non-zero instead.
import { spawnSync } from "node:child_process";
import { existsSync, rmSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";

const root = path.dirname(path.dirname(fileURLToPath(import.meta.url)));
const strict = process.argv.includes("--strict");
const addon = path.join(root, "build", "Release", "pipeseal_floe.node");

function giveUp(why) {
  process.stderr.write(`pipeseal: the native crypto engine was not built (${why}); pipeseal will use its reference engine (node:crypto), which is slower\n`);
  rmSync(addon, { force: true }); // never leave a half-built addon to be loaded
  process.exit(strict ? 1 : 0);
}

if (process.env.PIPESEAL_ENGINE === "reference") {
  process.stderr.write("pipeseal: PIPESEAL_ENGINE=reference: the native crypto engine is not built\n");
  process.exit(0);
}

// npm hands its bundled node-gyp to install scripts; outside npm, find the one beside npm
const candidates = [
  process.env.npm_config_node_gyp,
  path.join(root, "node_modules", "node-gyp", "bin", "node-gyp.js"),
  path.join(path.dirname(process.execPath), "..", "lib", "node_modules", "npm", "node_modules", "node-gyp", "bin", "node-gyp.js"),
].filter(Boolean);
const gyp = candidates.find((c) => existsSync(c));
if (!gyp) giveUp("node-gyp not found");

// Node's own headers where the install put them (Debian/NodeSource: /usr/include/node): no download needed
const prefix = path.dirname(path.dirname(process.execPath));
const args = [gyp, "rebuild"];
if (existsSync(path.join(prefix, "include", "node", "node_api.h"))) args.push(`--nodedir=${prefix}`);

const build = spawnSync(process.execPath, args, { cwd: root, stdio: ["ignore", "ignore", "pipe"], encoding: "utf8", timeout: 300_000 });
if (build.status !== 0) {
  const last = (build.stderr || build.error?.message || "")
    .trim()
    .split("\n")
    .filter((l) => /error/i.test(l))
    .slice(-3)
    .join(" | ");
  giveUp(`node-gyp: ${last || "failed"}; Debian needs build-essential, python3 and libssl-dev`);
}

// load it once in a fresh process: a build that links but cannot load must not be left in place
const probe = spawnSync(process.execPath, ["-e", `process.stdout.write(require(${JSON.stringify(addon)}).openssl)`], { encoding: "utf8" });
if (probe.status !== 0) giveUp(`it does not load: ${(probe.stderr || "").trim().split("\n")[0]}`);
process.stderr.write(`pipeseal: native crypto engine built (${probe.stdout})\n`);
