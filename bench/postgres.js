// A throwaway PostgreSQL cluster for the key-service bench, from the system's binaries (as
// scripts/setup.sh installs them): initdb into a temp dir, started on a unix socket only, fsync
// and synchronous_commit on (the audit's durability is what is measured). As root the binaries
// run as the `postgres` OS user, since PostgreSQL refuses root. Mirrors test/helpers/postgres.ts.
import { execFileSync } from "node:child_process";
import { chmodSync, existsSync, mkdtempSync, readFileSync, readdirSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

const BIN = ["/usr/lib/postgresql/15/bin", "/usr/lib/postgresql/16/bin", "/usr/lib/postgresql/17/bin"].find((d) => existsSync(join(d, "initdb")));

/** null when PostgreSQL is not installed. */
export function startBenchPostgres(port = 55000 + Math.floor(Math.random() * 5000)) {
  if (!BIN) return null;
  const asRoot = process.getuid?.() === 0;
  const dir = mkdtempSync(join(tmpdir(), "pipeseal-bench-pg-"));
  const run = (file, args) =>
    asRoot
      ? execFileSync("runuser", ["-u", "postgres", "--", join(BIN, file), ...args], { stdio: "ignore" })
      : execFileSync(join(BIN, file), args, { stdio: "ignore" });
  if (asRoot) execFileSync("chown", ["postgres:", dir]);
  chmodSync(dir, 0o700);
  run("initdb", ["-D", join(dir, "data"), "-U", "postgres", "--auth=trust", "-E", "UTF8", "--locale=C"]);
  run("pg_ctl", [
    "-D",
    join(dir, "data"),
    "-o",
    `-p ${port} -k ${dir} -c listen_addresses='' -c fsync=on -c synchronous_commit=on -c max_connections=200`,
    "-l",
    join(dir, "log"),
    "-w",
    "start",
  ]);
  const postmaster = Number(readFileSync(join(dir, "data", "postmaster.pid"), "utf8").split("\n")[0]);
  return {
    url: `postgresql://postgres@localhost:${port}/postgres?host=${encodeURIComponent(dir)}`,
    /** CPU time (ms) used so far by the postmaster and its live children (backends, WAL writer…). */
    cpuMs() {
      let ticks = 0;
      for (const pid of readdirSync("/proc").filter((d) => /^\d+$/.test(d))) {
        let stat;
        try {
          stat = readFileSync(`/proc/${pid}/stat`, "utf8");
        } catch {
          continue; // exited meanwhile
        }
        const f = stat.slice(stat.lastIndexOf(")") + 2).split(" "); // fields from 3 (state) on
        if (Number(pid) === postmaster || Number(f[1]) === postmaster) ticks += Number(f[11]) + Number(f[12]); // utime + stime
      }
      return ticks * 10; // USER_HZ is 100 on Linux
    },
    stop() {
      try {
        run("pg_ctl", ["-D", join(dir, "data"), "-m", "fast", "-w", "stop"]);
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
    },
  };
}
