import { postGuarded, type WebhookTargets } from '../webhooks/transport';

/**
 * Where SMS go: a provider that takes Twilio's request shape (a form-encoded `To`, `From`, `Body`
 * POSTed to `<base URL>/2010-04-01/Accounts/<account>/Messages.json` with basic auth), at a
 * configurable base URL (SMS_BASE_URL). The base URL obeys the webhook target rules: an internal
 * address is refused unless SMS_ALLOWED_HOSTS names it.
 */
export interface SmsSettings {
  baseUrl: string;
  accountSid: string;
  authToken: string;
  from: string;
  targets: WebhookTargets;
  /** Per request (default 10s): a slow provider fails the attempt, which is retried. */
  timeoutMs?: number;
}

/** The provider took the message (its id), or refused it for good (a 4xx: no retry can fix it). */
export type SmsProviderAnswer = { accepted: true; providerMessageId: string } | { accepted: false; failure: string };

export interface SmsProvider {
  send(message: { to: string; body: string }): Promise<SmsProviderAnswer>;
}

/** A 5xx (or an answer without a status the provider documents): worth another attempt. */
export class SmsProviderUnavailable extends Error {
  constructor(status: number) {
    super(`the SMS provider answered ${status}`);
    this.name = 'SmsProviderUnavailable';
  }
}

export function createSmsProvider(settings: SmsSettings): SmsProvider {
  const url = `${settings.baseUrl.replace(/\/+$/, '')}/2010-04-01/Accounts/${encodeURIComponent(settings.accountSid)}/Messages.json`;
  const authorization = `Basic ${Buffer.from(`${settings.accountSid}:${settings.authToken}`).toString('base64')}`;
  return {
    async send({ to, body }) {
      const answer = await postGuarded({
        url, targets: settings.targets, timeoutMs: settings.timeoutMs ?? 10_000,
        headers: { 'content-type': 'application/x-www-form-urlencoded', authorization, accept: 'application/json' },
        body: new URLSearchParams({ To: to, From: settings.from, Body: body }).toString(),
      });
      if (answer.status >= 200 && answer.status < 300) {
        return { accepted: true, providerMessageId: String(parsed(answer.body).sid ?? '') };
      }
      if (answer.status >= 400 && answer.status < 500 && answer.status !== 408 && answer.status !== 429) {
        const { code, message } = parsed(answer.body);
        return { accepted: false, failure: `${answer.status}${code === undefined ? '' : ` (code ${String(code)})`}: ${typeof message === 'string' ? message.slice(0, 200) : 'refused'}` };
      }
      throw new SmsProviderUnavailable(answer.status);
    },
  };
}

function parsed(body: string): Record<string, unknown> {
  try {
    const value: unknown = JSON.parse(body);
    return value !== null && typeof value === 'object' ? value as Record<string, unknown> : {};
  } catch {
    return {};
  }
}
