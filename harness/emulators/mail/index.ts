/**
 * The local mail sink: an SMTP server that accepts every message (any or no credentials, no TLS)
 * and keeps it in memory, plus a small HTTP inbox to read them:
 * `GET /messages` (newest last), `DELETE /messages`.
 */
import Fastify, { type FastifyInstance } from 'fastify';
import { simpleParser, type AddressObject } from 'mailparser';
import { SMTPServer } from 'smtp-server';
import { close as closeHttp, listen as listenHttp } from '../common/server';

export interface MailMessage {
  id: number;
  receivedAt: string;
  from: string;
  to: string[];
  subject: string;
  text: string;
}

export interface MailSinkAddresses {
  /** e.g. `smtp://127.0.0.1:8425` */
  smtpUrl: string;
  /** e.g. `http://127.0.0.1:8426` */
  httpUrl: string;
}

export interface MailSink {
  listen(options?: { smtpPort?: number; httpPort?: number; host?: string }): Promise<MailSinkAddresses>;
  messages(): MailMessage[];
  clear(): void;
  /** Resolves with the first message matching `predicate`, received before or within `timeoutMs`. */
  waitFor(predicate: (message: MailMessage) => boolean, timeoutMs?: number): Promise<MailMessage>;
  close(): Promise<void>;
}

function addresses(field: AddressObject | AddressObject[] | undefined): string[] {
  const list = Array.isArray(field) ? field : field ? [field] : [];
  return list.flatMap((group) => group.value.map((entry) => entry.address ?? '').filter(Boolean));
}

export function createMailSink(): MailSink {
  const inbox: MailMessage[] = [];
  const waiters = new Set<(message: MailMessage) => void>();
  let nextId = 1;

  const smtp = new SMTPServer({
    authOptional: true,
    disabledCommands: ['STARTTLS'],
    logger: false,
    onAuth: (_auth, _session, callback) => callback(null, { user: 'local' }),
    onData(stream, session, callback) {
      simpleParser(stream)
        .then((parsed) => {
          const envelopeTo = session.envelope.rcptTo.map((rcpt) => rcpt.address);
          const message: MailMessage = {
            id: nextId++,
            receivedAt: new Date().toISOString(),
            from:
              addresses(parsed.from)[0] ??
              (session.envelope.mailFrom ? session.envelope.mailFrom.address : ''),
            to: envelopeTo.length > 0 ? envelopeTo : addresses(parsed.to),
            subject: parsed.subject ?? '',
            text: parsed.text ?? '',
          };
          inbox.push(message);
          for (const waiter of waiters) waiter(message);
          callback();
        })
        .catch((error: Error) => callback(error));
    },
  });

  const http: FastifyInstance = Fastify({ logger: false });
  http.get('/messages', (_request, reply) => reply.send(inbox));
  http.delete('/messages', async (_request, reply) => {
    inbox.length = 0;
    return reply.code(204).send();
  });

  return {
    async listen(options = {}) {
      const host = options.host ?? '127.0.0.1';
      await new Promise<void>((resolve, reject) => {
        smtp.once('error', reject);
        smtp.listen(options.smtpPort ?? 0, host, () => {
          smtp.off('error', reject);
          resolve();
        });
      });
      const { port } = smtp.server.address() as { port: number };
      const httpUrl = await listenHttp(http, { port: options.httpPort, host });
      return { smtpUrl: `smtp://${host}:${port}`, httpUrl };
    },
    messages: () => [...inbox],
    clear: () => {
      inbox.length = 0;
    },
    waitFor(predicate, timeoutMs = 30_000) {
      const found = inbox.find(predicate);
      if (found) return Promise.resolve(found);
      return new Promise((resolve, reject) => {
        const waiter = (message: MailMessage) => {
          if (!predicate(message)) return;
          clearTimeout(timer);
          waiters.delete(waiter);
          resolve(message);
        };
        const timer = setTimeout(() => {
          waiters.delete(waiter);
          reject(new Error(`no matching mail within ${timeoutMs} ms (${inbox.length} received)`));
        }, timeoutMs);
        waiters.add(waiter);
      });
    },
    async close() {
      await new Promise<void>((resolve) => smtp.close(() => resolve()));
      await closeHttp(http);
    },
  };
}
