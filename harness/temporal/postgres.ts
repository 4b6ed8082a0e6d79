/**
 * Issue 17: the PostgreSQL a Temporal cluster of the harness runs on. A user's own server is
 * used when `TEMPORAL_POSTGRES_ADDRESS` (host:port) is set, with `TEMPORAL_POSTGRES_USER` and
 * `TEMPORAL_POSTGRES_PASSWORD` (a role that may create databases). Otherwise Debian's packages:
 * installed with apt-get when absent (as root), the cluster started with pg_ctlcluster, and a
 * `temporal` role created on it.
 */
import { execFile } from 'node:child_process';
import fs from 'node:fs';
import { promisify } from 'node:util';
import { firstLine } from './go-build';

const run = promisify(execFile);

export interface PostgresAddress {
  host: string;
  port: number;
  user: string;
  password: string;
  /** Where it came from, for the log. */
  source: 'TEMPORAL_POSTGRES_ADDRESS' | 'local';
}

export class PostgresUnavailableError extends Error {
  override name = 'PostgresUnavailableError';
}

const LOCAL_ROLE = { user: 'temporal', password: 'temporal' };

export async function ensurePostgres(
  options: { env?: NodeJS.ProcessEnv; log?: (line: string) => void } = {},
): Promise<PostgresAddress> {
  const env = options.env ?? process.env;
  const log = options.log ?? (() => undefined);
  if (env.TEMPORAL_POSTGRES_ADDRESS) {
    const at = env.TEMPORAL_POSTGRES_ADDRESS.lastIndexOf(':');
    const port = Number(env.TEMPORAL_POSTGRES_ADDRESS.slice(at + 1));
    if (at <= 0 || !Number.isInteger(port))
      throw new PostgresUnavailableError('TEMPORAL_POSTGRES_ADDRESS must be host:port');
    return {
      host: env.TEMPORAL_POSTGRES_ADDRESS.slice(0, at),
      port,
      user: env.TEMPORAL_POSTGRES_USER ?? LOCAL_ROLE.user,
      password: env.TEMPORAL_POSTGRES_PASSWORD ?? LOCAL_ROLE.password,
      source: 'TEMPORAL_POSTGRES_ADDRESS',
    };
  }
  if (!fs.existsSync('/usr/bin/pg_ctlcluster') || !installedVersion()) {
    if (process.getuid?.() !== 0)
      throw new PostgresUnavailableError(
        'PostgreSQL is not installed: run `apt-get install postgresql` as root, or set TEMPORAL_POSTGRES_ADDRESS to a server of yours',
      );
    log('Installing PostgreSQL (apt-get install postgresql)…');
    try {
      await run('apt-get', ['install', '-y', '-q', 'postgresql'], {
        env: { ...env, DEBIAN_FRONTEND: 'noninteractive' },
        timeout: 600_000,
        maxBuffer: 64 * 1024 * 1024,
      });
    } catch (error) {
      throw new PostgresUnavailableError(`apt-get install postgresql failed: ${firstLine(error)}`);
    }
  }
  const version = installedVersion();
  if (!version) throw new PostgresUnavailableError('no PostgreSQL cluster in /etc/postgresql');
  const port = clusterPort(version);
  try {
    await run('pg_ctlcluster', ['--skip-systemctl-redirect', version, 'main', 'start'], { timeout: 120_000 });
  } catch (error) {
    // Already running is fine (pg_ctlcluster says so, with exit code 2); anything else is not.
    const { stdout = '', stderr = '' } = error as { stdout?: string; stderr?: string };
    if (!/already running/i.test(`${stdout}${stderr}`))
      throw new PostgresUnavailableError(`pg_ctlcluster ${version} main start failed: ${firstLine(error)}`);
  }
  await asPostgres(
    `DO $$ BEGIN IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = '${LOCAL_ROLE.user}') THEN CREATE ROLE ${LOCAL_ROLE.user} LOGIN CREATEDB PASSWORD '${LOCAL_ROLE.password}'; END IF; END $$;`,
    port,
  );
  return { host: '127.0.0.1', port, ...LOCAL_ROLE, source: 'local' };
}

/** One SQL statement through `psql` on the `postgres` database, as the cluster's role; its output. */
async function psql(address: PostgresAddress, sql: string): Promise<string> {
  const { stdout } = await run(
    'psql',
    ['-h', address.host, '-p', String(address.port), '-U', address.user, '-d', 'postgres', '-Atc', sql],
    { env: { ...process.env, PGPASSWORD: address.password }, timeout: 60_000 },
  );
  return stdout;
}

/**
 * Drops the databases of one cluster (tests make their own). Tries each; fails after the last
 * with every database it could not drop and why, so none is left behind unseen.
 */
export async function dropDatabases(address: PostgresAddress, names: string[]): Promise<void> {
  const failed: string[] = [];
  for (const name of names) {
    try {
      await psql(address, `DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`);
    } catch (error) {
      failed.push(`${name}: ${error instanceof Error ? error.message.trim() : String(error)}`);
    }
  }
  if (failed.length > 0)
    throw new Error(
      `could not drop ${failed.length} database(s) on ${address.host}:${address.port}: ${failed.join('; ')}`,
    );
}

/** The databases whose names start with `prefix`. */
export async function databasesNamed(address: PostgresAddress, prefix: string): Promise<string[]> {
  return (await psql(address, 'SELECT datname FROM pg_database'))
    .split('\n')
    .filter((name) => name.startsWith(prefix));
}

function installedVersion(): string | undefined {
  try {
    return fs
      .readdirSync('/etc/postgresql')
      .filter((v) => fs.existsSync(`/etc/postgresql/${v}/main`))
      .sort((a, b) => Number(b) - Number(a))[0];
  } catch {
    return undefined;
  }
}

function clusterPort(version: string): number {
  try {
    const conf = fs.readFileSync(`/etc/postgresql/${version}/main/postgresql.conf`, 'utf8');
    const match = /^\s*port\s*=\s*(\d+)/m.exec(conf);
    return match ? Number(match[1]) : 5432;
  } catch {
    return 5432;
  }
}

async function asPostgres(sql: string, port: number): Promise<void> {
  try {
    await run(
      'su',
      [
        'postgres',
        '-c',
        `psql -q -p ${port} -v ON_ERROR_STOP=1 -c "${sql.replace(/"/g, '\\"').replace(/\$/g, '\\$')}"`,
      ],
      {
        timeout: 60_000,
      },
    );
  } catch (error) {
    throw new PostgresUnavailableError(`could not create the temporal role: ${firstLine(error)}`);
  }
}
