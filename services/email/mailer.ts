import nodemailer from 'nodemailer';
import type { Logger } from '../../runtime/logger';

export interface OutgoingMessage {
  from: string;
  to: string;
  subject: string;
  text: string;
  html?: string;
  messageId: string;
  headers?: Record<string, string>;
}

export interface Mailer {
  /** 'captured' when no SMTP server is configured: stored and logged, never lost. */
  readonly mode: 'smtp' | 'capture';
  send(message: OutgoingMessage): Promise<{ providerMessageId: string }>;
  close(): void;
}

/** Sends through SMTP_URL with nodemailer, or captures messages when it is not set. */
export function createMailer(smtpUrl: string | undefined, logger: Logger): Mailer {
  if (!smtpUrl) {
    const transport = nodemailer.createTransport({ jsonTransport: true });
    return {
      mode: 'capture',
      async send(message) {
        const info = await transport.sendMail(message);
        logger.info({ to: message.to, subject: message.subject, messageId: info.messageId }, 'email captured (no SMTP_URL)');
        return { providerMessageId: info.messageId };
      },
      close: () => transport.close(),
    };
  }
  const transport = nodemailer.createTransport({
    url: smtpUrl, connectionTimeout: 10_000, greetingTimeout: 10_000, socketTimeout: 20_000,
  } as Parameters<typeof nodemailer.createTransport>[0]);
  return {
    mode: 'smtp',
    async send(message) {
      const info = await transport.sendMail(message);
      return { providerMessageId: String(info.messageId ?? message.messageId) };
    },
    close: () => transport.close(),
  };
}
