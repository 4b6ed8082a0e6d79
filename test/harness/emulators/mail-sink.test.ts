/** The local mail sink receives what nodemailer sends and shows it over HTTP. */
import nodemailer from 'nodemailer';
import { request } from 'undici';
import { createMailSink, type MailMessage, type MailSink } from '../../../harness/emulators/mail';

let sink: MailSink;
let urls: { smtpUrl: string; httpUrl: string };

beforeAll(async () => {
  sink = createMailSink();
  urls = await sink.listen();
});

afterAll(async () => {
  await sink.close();
});

test('a mail sent over SMTP (with or without credentials) is listed by the HTTP inbox', async () => {
  const withAuth = new URL(urls.smtpUrl);
  withAuth.username = 'mailer';
  withAuth.password = 'anything';
  for (const url of [urls.smtpUrl, withAuth.toString()]) {
    const transport = nodemailer.createTransport(url);
    await transport.sendMail({
      from: 'jc-notion@example.com',
      to: 'admins@example.com, oncall@example.com',
      subject: `Import finished via ${url.includes('@') ? 'auth' : 'plain'}`,
      text: '150 imported, 0 failed',
    });
    transport.close();
  }
  const plain = await sink.waitFor((m) => m.subject === 'Import finished via plain');
  expect(plain).toMatchObject({
    from: 'jc-notion@example.com',
    to: ['admins@example.com', 'oncall@example.com'],
  });
  expect(plain.text).toContain('150 imported');

  const response = await request(`${urls.httpUrl}/messages`);
  const listed = (await response.body.json()) as MailMessage[];
  expect(listed.map((m) => m.subject)).toEqual(['Import finished via plain', 'Import finished via auth']);

  await (await request(`${urls.httpUrl}/messages`, { method: 'DELETE' })).body.dump();
  expect(sink.messages()).toEqual([]);
});
