/**
 * Mail to the identity admins (`NOTIFY_SMTP_URL` → `NOTIFY_EMAIL`): alerts (C3, C6) and completion
 * reports (import). Without both settings the message is only logged, as SPEC §2 says. A mail that
 * cannot be sent is a retryable failure: the SMTP server may be back in a minute.
 */
import nodemailer from 'nodemailer';
import { scrubSecrets } from '../common/logger';
import type { WorkerConfig } from '../config/config';

export interface Notification {
  subject: string;
  text: string;
}

export type NotificationOutcome = { sent: true; to: string[] } | { sent: false; reason: string };

export interface Notifier {
  send(notification: Notification): Promise<NotificationOutcome>;
}

export const NOTIFY_FROM = 'jc-notion <jc-notion@localhost>';

/**
 * `secrets`: the values to scrub from every mail (issue 16): a failure message quoted in an
 * alert must not carry a token, whatever produced it.
 */
export function createNotifier(
  config: Pick<WorkerConfig, 'notify' | 'connectorId'>,
  secrets: () => readonly string[] = () => [],
): Notifier {
  const { smtpUrl, emails } = config.notify;
  return {
    async send(notification) {
      if (!smtpUrl) return { sent: false, reason: 'NOTIFY_SMTP_URL is not set' };
      if (emails.length === 0) return { sent: false, reason: 'NOTIFY_EMAIL is not set' };
      const transport = nodemailer.createTransport(smtpUrl);
      try {
        await transport.sendMail({
          from: NOTIFY_FROM,
          to: emails,
          subject: scrubSecrets(`[jc-notion ${config.connectorId}] ${notification.subject}`, secrets()),
          text: scrubSecrets(notification.text, secrets()),
        });
      } catch (error) {
        // The transport's message may quote the URL: never the password (secrets are scrubbed
        // from logs too, this keeps them out of workflow histories).
        const reason = error instanceof Error ? error.message : String(error);
        const password = safePassword(smtpUrl);
        // No `cause`: Temporal would serialise it into history, and it may quote the SMTP URL.
        // eslint-disable-next-line preserve-caught-error
        throw new Error(
          `could not send mail: ${password ? reason.split(password).join('[secret]') : reason}`,
        );
      } finally {
        transport.close();
      }
      return { sent: true, to: emails };
    },
  };
}

function safePassword(url: string): string | undefined {
  try {
    const password = decodeURIComponent(new URL(url).password);
    return password || undefined;
  } catch {
    return undefined;
  }
}
