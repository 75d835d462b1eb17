import { execFile, execFileSync } from 'node:child_process';
import { chownSync, existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import postgres from 'postgres';
import { freePort } from './ports.js';
import { tempDir } from './tmp.js';

const run = promisify(execFile);

export interface TestPostgres {
  /** `postgres://postgres@127.0.0.1:<port>/relay`: an empty database nobody else uses. */
  readonly url: string;
  /** The folder of its Unix socket (`.s.PGSQL.<port>`). */
  readonly socketDir: string;
  /** Stops the server and removes its folder; safe to call twice. */
  close(): Promise<void>;
}

/**
 * A real PostgreSQL from Debian's `postgresql` package, in its own temp folder on a free port of
 * 127.0.0.1 (sockets in that folder too): one per test file. Measured on 2 idle cores: 1.1–1.8 s
 * to a created database, nearly all of it initdb (`pg_ctl start` is about 0.1 s); close takes
 * 0.2–0.3 s. Durability is off (fsync, synchronous commit, full-page writes): a test server never
 * survives a crash anyway. The locale is C.UTF-8, as a default Debian cluster's often is, not "C":
 * under "C" PostgreSQL turns prefix matches into index ranges that a production database would
 * not (the event page's lookup read every job there, and no test saw it).
 */
export async function startPostgres(): Promise<TestPostgres> {
  const bin = postgresBin();
  const dir = tempDir('relay-pg');
  const data = join(dir.path, 'data');
  const asOwner = ownerCommand(dir.path);
  try {
    await asOwner(join(bin, 'initdb'), [
      ...['-D', data, '-U', 'postgres', '-A', 'trust', '-E', 'UTF8', '--locale=C.UTF-8'],
      ...['--no-sync', '--no-instructions'],
    ]);
    const port = await startOnFreePort(asOwner, bin, data, dir.path);
    const url = `postgres://postgres@127.0.0.1:${port}/relay`;
    await createDatabase(`postgres://postgres@127.0.0.1:${port}/postgres`, 'relay');
    let closed: Promise<void> | undefined;
    return {
      url,
      socketDir: dir.path,
      close: () => {
        closed ??= asOwner(join(bin, 'pg_ctl'), ['-D', data, '-m', 'fast', '-w', 'stop'])
          .then(() => undefined)
          .finally(() => dir.cleanup());
        return closed;
      },
    };
  } catch (err) {
    await asOwner(join(bin, 'pg_ctl'), ['-D', data, '-m', 'immediate', 'stop']).catch(() => undefined);
    dir.cleanup();
    throw err;
  }
}

/** The newest `/usr/lib/postgresql/<version>/bin` holding initdb (Debian puts no server binary on PATH). */
function postgresBin(): string {
  const root = '/usr/lib/postgresql';
  const versions = existsSync(root) ? readdirSync(root).filter((v) => /^\d+$/.test(v)) : [];
  const bins = versions
    .sort((a, b) => Number(b) - Number(a))
    .map((v) => join(root, v, 'bin'))
    .filter((b) => existsSync(join(b, 'initdb')));
  if (!bins[0]) throw new Error(`no initdb under ${root}: apt-get install -y postgresql`);
  return bins[0];
}

type Runner = (file: string, args: string[]) => Promise<unknown>;

/**
 * initdb and postgres refuse to run as root, and tests may run as root: then the folder goes to
 * Debian's `postgres` user and every command runs as that user through runuser.
 */
function ownerCommand(dir: string): Runner {
  const asRoot = process.getuid?.() === 0;
  if (asRoot) {
    const id = (flag: string) => Number(execFileSync('id', [flag, 'postgres'], { encoding: 'utf8' }).trim());
    chownSync(dir, id('-u'), id('-g'));
  }
  // cwd: the owner may not be allowed into ours (postgres cannot enter /root).
  return (file, args) =>
    asRoot
      ? run('runuser', ['-u', 'postgres', '--', file, ...args], { cwd: dir })
      : run(file, args, { cwd: dir });
}

/**
 * `pg_ctl start -w` polls the server until it accepts connections (and notices at once when it
 * died instead). Another process may take the port between our probe and the server's bind: then
 * it is tried again on another port.
 */
async function startOnFreePort(asOwner: Runner, bin: string, data: string, dir: string): Promise<number> {
  const log = join(dir, 'server.log');
  for (let attempt = 1; ; attempt++) {
    const port = await freePort();
    const options = [
      ...['-c listen_addresses=127.0.0.1', `-c port=${port}`, `-c unix_socket_directories=${dir}`],
      ...['-c fsync=off', '-c synchronous_commit=off', '-c full_page_writes=off'],
      // Test files in parallel, each with apps of several pooled connections (default 100).
      '-c max_connections=400',
    ].join(' ');
    try {
      await asOwner(join(bin, 'pg_ctl'), ['-D', data, '-l', log, '-o', options, '-w', '-t', '30', 'start']);
      return port;
    } catch (err) {
      const text = existsSync(log) ? readFileSync(log, 'utf8') : '';
      if (attempt < 3 && /Address already in use/.test(text)) continue;
      throw new Error(`PostgreSQL did not start: ${(err as Error).message}\n${text}`);
    }
  }
}

/** Creates database `name` on the server of `adminUrl`, as a copy of `template` when given. */
export async function createDatabase(adminUrl: string, name: string, template?: string): Promise<void> {
  const sql = postgres(adminUrl, { max: 1, onnotice: () => {} });
  try {
    await sql.unsafe(`create database ${name}${template ? ` template ${template}` : ''}`);
  } finally {
    await sql.end();
  }
}
