/**
 * Issue 16 (§2): every secret the process holds, a rotated one included, is scrubbed from logs and
 * from mail, whatever produced the text. (Failures leaving activities: test/worker/activity-guard.test.ts.)
 */
import { Writable } from 'node:stream';
import { createNotifier } from '../../activities/notify';
import { createLogger, TOO_DEEP } from '../../common/logger';
import { createMailSink } from '../../harness/emulators/mail';

test('issue 16: a logger given a function scrubs a secret that appeared after it started (a rotated file)', () => {
  jest.useFakeTimers({ now: Date.now() });
  try {
    const lines: string[] = [];
    const destination = new Writable({
      write(chunk: Buffer, _encoding, done) {
        lines.push(chunk.toString());
        done();
      },
    });
    let secrets = ['first-secret-91aa'];
    const logger = createLogger({ secrets: () => secrets, destination });
    logger.warn({ detail: 'echo first-secret-91aa' }, 'proxy said first-secret-91aa');
    secrets = ['first-secret-91aa', 'rotated-secret-47bc'];
    jest.advanceTimersByTime(6_000);
    logger.warn({ detail: 'echo rotated-secret-47bc' }, 'proxy said rotated-secret-47bc');
    expect(lines).toHaveLength(2);
    for (const line of lines) {
      expect(line).not.toMatch(/first-secret-91aa|rotated-secret-47bc/);
      expect(line).toContain('[secret]');
    }
  } finally {
    jest.useRealTimers();
  }
});

test('issue 16 (§2): a log line nested deeper than the scrubber looks drops that part instead of passing a secret on', () => {
  const lines: string[] = [];
  const destination = new Writable({
    write(chunk: Buffer, _encoding, done) {
      lines.push(chunk.toString());
      done();
    },
  });
  const logger = createLogger({ secrets: ['deep-secret-5e0f'], destination });
  let nested: Record<string, unknown> = { token_echo: 'deep-secret-5e0f' };
  for (let level = 0; level < 12; level++) nested = { level, nested };
  logger.warn({ response: nested }, 'upstream said something');
  expect(lines).toHaveLength(1);
  expect(lines[0]).not.toContain('deep-secret-5e0f');
  expect(lines[0]).toContain(TOO_DEEP);
});

test('issue 16: an alert mail quoting a failure carries no secret', async () => {
  const sink = createMailSink();
  const { smtpUrl } = await sink.listen({ host: '127.0.0.1' });
  try {
    const notifier = createNotifier(
      { connectorId: 'scrub', notify: { smtpUrl, emails: ['admins@example.com'] } },
      () => ['mail-secret-3f0e'],
    );
    const outcome = await notifier.send({
      subject: 'credentials rejected (mail-secret-3f0e)',
      text: 'Notion answered: invalid token mail-secret-3f0e',
    });
    expect(outcome.sent).toBe(true);
    const [message] = sink.messages();
    expect(JSON.stringify(message)).not.toContain('mail-secret-3f0e');
    expect(message?.subject).toContain('[secret]');
  } finally {
    await sink.close();
  }
});
