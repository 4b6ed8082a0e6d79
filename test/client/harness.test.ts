/** client/harness.ts: the product reaches the harness only at run time, and says so when it is absent. */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import {
  findHarnessModule,
  HARNESS_DIR_VARIABLE,
  HarnessMissingError,
  harnessDir,
  loadHarnessModule,
} from '../../client/harness';
import type { LocalCommandHarness } from '../../client/commands/local';
import { ROOT } from '../support/cli';

test('from the sources the harness is harness/ beside client/, unless JCN_HARNESS_DIR says otherwise', () => {
  expect(harnessDir({})).toBe(path.join(ROOT, 'harness'));
  expect(findHarnessModule('local/command')).toBe(path.join(ROOT, 'harness', 'local', 'command.ts'));
  expect(harnessDir({ [HARNESS_DIR_VARIABLE]: '/elsewhere' })).toBe('/elsewhere');
});

test('without the harness, a development command fails with one line saying where to run it', async () => {
  const empty = fs.mkdtempSync(path.join(os.tmpdir(), 'jcn-no-harness-'));
  try {
    const loading = loadHarnessModule<LocalCommandHarness>(
      'local/command',
      ['runLocalCommand'],
      'local',
      empty,
    );
    await expect(loading).rejects.toBeInstanceOf(HarnessMissingError);
    await expect(loading).rejects.toThrow(
      /^`local` is a development command: run it from a clone of the repository \(`npm install && npx jc-notion local`\)/,
    );
  } finally {
    fs.rmSync(empty, { recursive: true, force: true });
  }
});
