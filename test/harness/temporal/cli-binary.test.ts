/**
 * Obtaining the Temporal CLI: the order of the sources, the cache, and concurrent callers.
 * A fake `go` stands in for the real build (which the global setup exercises for real on a
 * machine with an empty cache).
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { resolveTemporalCli, TemporalCliUnavailableError } from '../../../harness/temporal/cli-binary';

const FAKE_TEMPORAL = '#!/bin/sh\necho "temporal version fake"\n';

function tempDir(): string {
  return fs.mkdtempSync(path.join(os.tmpdir(), 'jcn-cli-'));
}

function executable(file: string, body: string): string {
  fs.mkdirSync(path.dirname(file), { recursive: true });
  fs.writeFileSync(file, body, { mode: 0o755 });
  return file;
}

/** A `go` that writes a working fake `temporal` into $GOBIN slowly, in pieces, counting its runs. */
function fakeGo(dir: string, counter: string): string {
  return executable(
    path.join(dir, 'go'),
    `#!/bin/sh
echo run >> "${counter}"
printf '#!/bin/sh\\n' > "$GOBIN/temporal"
sleep 1
printf 'echo "temporal version fake-built"\\n' >> "$GOBIN/temporal"
chmod +x "$GOBIN/temporal"
`,
  );
}

describe('obtaining the Temporal CLI', () => {
  test('TEMPORAL_CLI_PATH comes first', async () => {
    const dir = tempDir();
    const explicit = executable(path.join(dir, 'explicit', 'temporal'), FAKE_TEMPORAL);
    const onPath = executable(path.join(dir, 'bin', 'temporal'), FAKE_TEMPORAL);
    const cli = await resolveTemporalCli({
      env: { TEMPORAL_CLI_PATH: explicit, PATH: path.dirname(onPath) },
      cacheDir: dir,
      sdkDownload: false,
    });
    expect(cli).toMatchObject({ path: explicit, source: 'TEMPORAL_CLI_PATH' });
  });

  test('a TEMPORAL_CLI_PATH that does not work is an error naming it, not silently skipped', async () => {
    const dir = tempDir();
    await expect(
      resolveTemporalCli({
        env: { TEMPORAL_CLI_PATH: path.join(dir, 'missing'), PATH: '' },
        cacheDir: dir,
        sdkDownload: false,
      }),
    ).rejects.toThrow(/TEMPORAL_CLI_PATH=.*missing is not a working temporal executable/);
  });

  test('then `temporal` on PATH, then the cache', async () => {
    const dir = tempDir();
    const onPath = executable(path.join(dir, 'bin', 'temporal'), FAKE_TEMPORAL);
    expect(
      await resolveTemporalCli({ env: { PATH: path.dirname(onPath) }, cacheDir: dir, sdkDownload: false }),
    ).toMatchObject({ path: onPath, source: 'PATH' });

    const cached = executable(path.join(dir, 'cache', 'temporal-cli', 'temporal'), FAKE_TEMPORAL);
    expect(
      await resolveTemporalCli({ env: { PATH: '' }, cacheDir: path.join(dir, 'cache'), sdkDownload: false }),
    ).toMatchObject({
      path: cached,
      source: 'cache',
    });
  });

  test('concurrent callers build once and all get a complete binary', async () => {
    const dir = tempDir();
    const counter = path.join(dir, 'runs');
    const goDir = path.join(dir, 'go-bin');
    fakeGo(goDir, counter);
    const cacheDir = path.join(dir, 'cache');
    const results = await Promise.all(
      [1, 2, 3].map(() =>
        resolveTemporalCli({ env: { PATH: `${goDir}:/usr/bin:/bin` }, cacheDir, sdkDownload: false }),
      ),
    );
    // One built it; the others waited on the lock and found it cached.
    expect(fs.readFileSync(counter, 'utf8').trim().split('\n')).toHaveLength(1);
    expect(results.map((r) => r.source).sort()).toEqual(['cache', 'cache', 'go-install']);
    for (const result of results) expect(result.version).toBe('temporal version fake-built');
    // Nothing half-written or temporary is left beside the binary.
    expect(fs.readdirSync(path.join(cacheDir, 'temporal-cli'))).toEqual(['temporal']);
  });

  test('a lock left by a dead process is taken over', async () => {
    const dir = tempDir();
    const goDir = path.join(dir, 'go-bin');
    fakeGo(goDir, path.join(dir, 'runs'));
    const cliDir = path.join(dir, 'cache', 'temporal-cli');
    fs.mkdirSync(cliDir, { recursive: true });
    fs.writeFileSync(
      path.join(cliDir, '.lock'),
      JSON.stringify({ pid: 2 ** 22 + 17, host: os.hostname(), at: Date.now() }),
    );
    const cli = await resolveTemporalCli({
      env: { PATH: `${goDir}:/usr/bin:/bin` },
      cacheDir: path.join(dir, 'cache'),
      sdkDownload: false,
    });
    expect(cli.source).toBe('go-install');
  });

  test('when every way fails the error says what was tried and what to install', async () => {
    const dir = tempDir();
    const error = await resolveTemporalCli({
      env: { PATH: path.join(dir, 'empty') },
      cacheDir: dir,
      sdkDownload: false,
    }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(TemporalCliUnavailableError);
    const message = (error as Error).message;
    expect(message).toMatch(/TEMPORAL_CLI_PATH is unset/);
    expect(message).toMatch(/no `temporal` on PATH/);
    expect(message).toMatch(/not cached in/);
    expect(message).toMatch(
      /Install it .*TEMPORAL_CLI_PATH.*go install github\.com\/temporalio\/cli\/cmd\/temporal@v1\.5\.1/,
    );
  });
});
