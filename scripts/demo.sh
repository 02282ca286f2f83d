#!/usr/bin/env bash
# The main job on the embedded default: a keystore in a scratch folder, a sample dataset
# sealed, read by range, the key rotated, the file rewrapped, and the audit verified.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
work="${DEMO_DIR:-$root/.demo}"
rm -rf "$work" && mkdir -p "$work" && cd "$work"
export PIPESEAL_HOME="$work/.pipeseal" PIPESEAL_PRINCIPAL="${PIPESEAL_PRINCIPAL:-demo-user}"
pipeseal() { node "$root/dist/cli/main.js" "$@"; }
step() { printf '\n\033[1m$ pipeseal %s\033[0m\n' "$*"; pipeseal "$@"; }

echo "# a sample dataset: 20,000 synthetic customer rows"
node -e '
  const rows = ["id,name,email,country,lifetime_value"];
  for (let i = 1; i <= 20000; i++) rows.push(`${i},Customer ${i},customer${i}@example.com,${["DE","FR","US","JP"][i % 4]},${(i * 37 % 10007) / 10}`);
  require("fs").writeFileSync("customers.csv", rows.join("\n") + "\n");'
ls -l customers.csv

step init
step key create datasets/raw --rotate-every 90d
step encrypt --key datasets/raw --context stage=landing,dataset=customers customers.csv
step inspect customers.csv.pseal
echo; echo "# bytes 1000..1199 of the plaintext, decrypting only the segment they lie in:"
step decrypt customers.csv.pseal --range 1000:200 -o -
echo
step key rotate datasets/raw
step rewrap customers.csv.pseal
step decrypt customers.csv.pseal -o customers.roundtrip.csv
cmp customers.csv customers.roundtrip.csv && echo "round trip: identical"
step key list
step audit list
step audit verify
echo; echo "demo files are in $work (remove it when done)"
