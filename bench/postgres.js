// A throwaway PostgreSQL cluster for the key-service bench, from the system's binaries (as
// scripts/setup.sh installs them): initdb into a temp dir, started on a unix socket only, fsync
// and synchronous_commit on (the audit's durability is what is measured). As root the binaries
// run as the `postgres` OS user, since PostgreSQL refuses root. Mirrors test/helpers/postgres.ts.
import { execFileSync } from "node:child_process";
import { chmodSync, existsSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

const BIN = ["/usr/lib/postgresql/15/bin", "/usr/lib/postgresql/16/bin", "/usr/lib/postgresql/17/bin"].find((d) => existsSync(join(d, "initdb")));

/** null when PostgreSQL is not installed. */
export function startBenchPostgres(port = 55000 + Math.floor(Math.random() * 5000)) {
  if (!BIN) return null;
  const asRoot = process.getuid?.() === 0;
  const dir = mkdtempSync(join(tmpdir(), "pipeseal-bench-pg-"));
  const run = (file, args) => (asRoot ? execFileSync("runuser", ["-u", "postgres", "--", join(BIN, file), ...args], { stdio: "ignore" }) : execFileSync(join(BIN, file), args, { stdio: "ignore" }));
  if (asRoot) execFileSync("chown", ["postgres:", dir]);
  chmodSync(dir, 0o700);
  run("initdb", ["-D", join(dir, "data"), "-U", "postgres", "--auth=trust", "-E", "UTF8", "--locale=C"]);
  run("pg_ctl", ["-D", join(dir, "data"), "-o", `-p ${port} -k ${dir} -c listen_addresses='' -c fsync=on -c synchronous_commit=on -c max_connections=200`, "-l", join(dir, "log"), "-w", "start"]);
  return {
    url: `postgresql://postgres@localhost:${port}/postgres?host=${encodeURIComponent(dir)}`,
    stop() {
      try {
        run("pg_ctl", ["-D", join(dir, "data"), "-m", "fast", "-w", "stop"]);
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
    },
  };
}
