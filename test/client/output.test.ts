/**
 * Issue 16: what a command prints cannot steer the terminal. Names and service errors come from
 * directories anyone can write to; control characters, bidirectional overrides and zero-width
 * characters are shown as escapes, in text and in JSON.
 */
import { jsonSafe, printError, printJson, printLines, terminalSafe } from '../../client/output';

const HOSTILE = 'Ann\u202Egnp.exe\u200B \u001b[2J\u001b]0;pwned\u0007 \u0085end';

test('issue 16: control, bidirectional and zero-width characters are shown as escapes, never obeyed', () => {
  expect(terminalSafe(HOSTILE)).toBe(
    'Ann\\u{202e}gnp.exe\\u{200b} \\u{1b}[2J\\u{1b}]0;pwned\\u{7} \\u{85}end',
  );
  // Ordinary text, accents and line structure are left alone.
  expect(terminalSafe('Zoë Ó Súilleabháin\tok')).toBe('Zoë Ó Súilleabháin\tok');
});

test('issue 16: JSON output escapes what JSON.stringify leaves raw, and still parses to the same value', () => {
  const json = jsonSafe(JSON.stringify({ name: HOSTILE }));
  expect(json).not.toMatch(/[\u202e\u200b\u0085]/);
  expect(JSON.parse(json)).toEqual({ name: HOSTILE });
});

test('issue 16: printLines, printJson and printError write only escaped text', () => {
  const written: string[] = [];
  const out = jest.spyOn(process.stdout, 'write').mockImplementation((chunk) => {
    written.push(String(chunk));
    return true;
  });
  const err = jest.spyOn(process.stderr, 'write').mockImplementation((chunk) => {
    written.push(String(chunk));
    return true;
  });
  try {
    printLines([HOSTILE]);
    printJson({ name: HOSTILE });
    printError(`failed: ${HOSTILE}`);
  } finally {
    out.mockRestore();
    err.mockRestore();
  }
  expect(written).toHaveLength(3);
  // eslint-disable-next-line no-control-regex -- looking for control characters is the point
  const unsafe = /[\u0000-\u0008\u000b-\u001f\u007f-\u009f\u200b-\u200f\u202a-\u202e]/;
  for (const text of written) expect(text).not.toMatch(unsafe);
});
