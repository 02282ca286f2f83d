#!/usr/bin/env bash
# System packages pipeseal's tests use, installed only when missing (Debian/Ubuntu, as root or via sudo):
# SoftHSM2 (a real PKCS#11 token for the HSM root key), PostgreSQL 15 (the key service's
# shared store), openssl and jq (cross-checks of certificates, CRLs and audit anchors), Chromium (renders the posture
# HTML report in a real browser), tmux (Ctrl-C on a real terminal in the signal tests), curl and
# Python's fsspec, aiohttp and PyTorch (real loaders reading through the data gateway),
# python3-nbformat (validates notebooks that `scan --fix` rewrites); a C compiler, make, python3 and
# libssl-dev (OpenSSL 3 headers) for the native crypto engine that `npm ci` builds (src/engine; without
# them pipeseal runs on node:crypto); age (the benchmark's peer). Then the npm packages.
set -euo pipefail
need=()
command -v softhsm2-util >/dev/null || need+=(softhsm2)
[ -x /usr/lib/postgresql/15/bin/initdb ] || need+=(postgresql-15)
command -v openssl >/dev/null || need+=(openssl)
command -v jq >/dev/null || need+=(jq) # the OpenSSL recipe for audit anchors (docs/audit.md) is run by a test
[ -x /usr/bin/chromium ] || need+=(chromium)
command -v tmux >/dev/null || need+=(tmux)
command -v curl >/dev/null || need+=(curl)
dpkg -s python3-fsspec >/dev/null 2>&1 || need+=(python3-fsspec)
dpkg -s python3-aiohttp >/dev/null 2>&1 || need+=(python3-aiohttp)
dpkg -s python3-torch >/dev/null 2>&1 || need+=(python3-torch)
/usr/bin/python3 -c "import nbformat" 2>/dev/null || need+=(python3-nbformat) # validates notebooks rewritten by scan --fix
command -v cc >/dev/null && command -v make >/dev/null || need+=(build-essential) # node-gyp builds native/floe.c
[ -f /usr/include/openssl/evp.h ] || need+=(libssl-dev)
command -v python3 >/dev/null || need+=(python3) # node-gyp's gyp
command -v age >/dev/null || need+=(age) # npm run bench: the CLI's peer
if [ ${#need[@]} -gt 0 ]; then
  sudo=""; [ "$(id -u)" -eq 0 ] || sudo="sudo"
  $sudo apt-get update -qq && DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq "${need[@]}"
fi
cd "$(dirname "$0")/.."
npm ci
