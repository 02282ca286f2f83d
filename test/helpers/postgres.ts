/**
 * A throwaway PostgreSQL 15 cluster for one test file: `initdb` into a temp dir, `pg_ctl
 * start` on a unix socket in that dir and a free port, no TCP listener, fsync on (audit
 * durability is the point). PostgreSQL refuses to run as root, so as root the binaries run
 * as the unprivileged `postgres` OS user (created by Debian's package) via runuser.
 *
 * @example
 * const pg = await startPostgres();
 * afterAll(() => pg.stop());
 * const pool = new pg.Pool(pg.poolConfig());
 */
import { execFile } from "node:child_process";
import { existsSync, promises as fs } from "node:fs";
import net from "node:net";
import os from "node:os";
import path from "node:path";
import { promisify } from "node:util";
import type { PoolConfig } from "pg";

const run = promisify(execFile);

export interface TestPostgres {
  /** Unix-socket directory (the `host` for pg). */
  readonly socketDir: string;
  readonly port: number;
  readonly user: string;
  /** Connection settings for `database` (default "postgres"). */
  poolConfig(database?: string): PoolConfig;
  /** A fresh empty database. */
  createDatabase(name: string): Promise<void>;
  stop(): Promise<void>;
}

export function postgresBinDir(): string | null {
  const fromEnv = process.env.PIPESEAL_PG_BIN;
  const candidates = [fromEnv, "/usr/lib/postgresql/15/bin", "/usr/lib/postgresql/16/bin", "/usr/lib/postgresql/17/bin"].filter((x): x is string => !!x);
  return candidates.find((d) => existsSync(path.join(d, "initdb"))) ?? null;
}

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.on("error", reject);
    srv.listen(0, "127.0.0.1", () => {
      const { port } = srv.address() as net.AddressInfo;
      srv.close(() => resolve(port));
    });
  });
}

export async function startPostgres(): Promise<TestPostgres> {
  const bin = postgresBinDir();
  if (bin === null) throw new Error("PostgreSQL binaries not found (install postgresql-15 or set PIPESEAL_PG_BIN)");
  const asRoot = process.getuid?.() === 0;
  const osUser = asRoot ? "postgres" : os.userInfo().username;
  const dir = await fs.mkdtemp(path.join(os.tmpdir(), "pipeseal-pg-"));
  const data = path.join(dir, "data");
  const exec = async (file: string, args: string[]) => {
    const cmd = asRoot ? (["runuser", ["-u", osUser, "--", path.join(bin, file), ...args]] as const) : ([path.join(bin, file), args] as const);
    return run(cmd[0], [...cmd[1]], { cwd: dir, timeout: 60_000 });
  };
  if (asRoot) await run("chown", ["-R", `${osUser}:`, dir]);
  await fs.chmod(dir, 0o700);
  await exec("initdb", ["-D", data, "-U", "postgres", "--auth=trust", "-E", "UTF8", "--locale=C"]);
  const port = await freePort();
  const opts = [
    `-p ${port}`,
    `-k ${dir}`,
    "-c listen_addresses=''",
    "-c fsync=on",
    "-c synchronous_commit=on",
    "-c max_connections=200",
    "-c shared_buffers=32MB",
  ].join(" ");
  await exec("pg_ctl", ["-D", data, "-o", opts, "-l", path.join(dir, "log"), "-w", "-t", "60", "start"]);
  let stopped = false;
  const pg: TestPostgres = {
    socketDir: dir,
    port,
    user: "postgres",
    poolConfig: (database = "postgres") => ({ host: dir, port, user: "postgres", database, max: 10 }),
    async createDatabase(name) {
      if (!/^[a-z_][a-z0-9_]*$/.test(name)) throw new Error("bad database name");
      await exec("psql", ["-h", dir, "-p", String(port), "-U", "postgres", "-d", "postgres", "-v", "ON_ERROR_STOP=1", "-c", `CREATE DATABASE ${name}`]);
    },
    async stop() {
      if (stopped) return;
      stopped = true;
      try {
        await exec("pg_ctl", ["-D", data, "-m", "fast", "-w", "stop"]);
      } finally {
        await fs.rm(dir, { recursive: true, force: true });
      }
    },
  };
  return pg;
}
