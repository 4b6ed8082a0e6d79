/**
 * Starting the dev server (harness/temporal/dev-server.ts): a start the Temporal CLI could not
 * complete, with its error hidden by a panic (temporalio/cli#605, #667), is tried again on new
 * ports; a server that keeps crashing fails with the panic's own frames. A fake `temporal` that
 * panics stands in for the crash, in front of the real CLI.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { obtainTemporalCli } from '../../../harness/temporal/cli-binary';
import { DevServerError, startDevServer } from '../../../harness/temporal/dev-server';

const PANIC = [
  'panic: runtime error: invalid memory address or nil pointer dereference',
  '[signal SIGSEGV: segmentation violation code=0x1 addr=0x0 pc=0x0]',
  'goroutine 1 [running]:',
  'github.com/temporalio/cli/temporalcli.Execute(...)',
  '\tgithub.com/temporalio/cli@v1.5.1/temporalcli/commands.go:350 +0x170',
];

/** A `temporal` that panics on its first `crashes` starts, then runs `real` (if any). */
function flakyCli(crashes: number, real?: string): { path: string; starts: () => number } {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'jcn-devserver-'));
  const counter = path.join(dir, 'starts');
  const file = path.join(dir, 'temporal');
  fs.writeFileSync(
    file,
    `#!/bin/sh
echo start >> "${counter}"
if [ "$(wc -l < "${counter}")" -le ${crashes} ]; then
${PANIC.map((line) => `  printf '%s\\n' '${line}' >&2`).join('\n')}
  exit 2
fi
${real ? `exec "${real}" "$@"` : 'exit 2'}
`,
    { mode: 0o755 },
  );
  return { path: file, starts: () => fs.readFileSync(counter, 'utf8').trim().split('\n').length };
}

test('a dev server that panicked before it answered (its start-up error hidden) is started again on new ports', async () => {
  const real = (await obtainTemporalCli()).path;
  const cli = flakyCli(1, real);
  const server = await startDevServer({ executable: cli.path, uiPort: false });
  try {
    expect(cli.starts()).toBe(2);
    expect(server.address).toMatch(/^127\.0\.0\.1:\d+$/);
  } finally {
    await server.stop();
  }
}, 120_000);

test('a dev server that keeps panicking fails after three starts, with the panic and its first frames', async () => {
  const cli = flakyCli(10);
  const failure = await startDevServer({ executable: cli.path, uiPort: false }).catch((e: unknown) => e);
  expect(failure).toBeInstanceOf(DevServerError);
  expect((failure as DevServerError).message).toMatch(/exited with code 2: panic: runtime error/);
  expect((failure as DevServerError).message).toMatch(/temporalcli\/commands\.go:350/);
  expect(cli.starts()).toBe(3);
});

test('a start that fails for another reason (no panic) is not tried again', async () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'jcn-devserver-'));
  const counter = path.join(dir, 'starts');
  const file = path.join(dir, 'temporal');
  fs.writeFileSync(file, `#!/bin/sh\necho start >> "${counter}"\necho 'Error: unknown flag' >&2\nexit 1\n`, {
    mode: 0o755,
  });
  await expect(startDevServer({ executable: file, uiPort: false })).rejects.toThrow(/unknown flag/);
  expect(fs.readFileSync(counter, 'utf8').trim().split('\n')).toHaveLength(1);
});
