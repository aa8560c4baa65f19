import type { Database } from '../../db/client';
import type { SendingWindow } from '../../journey-language';
import { findContact } from '../contacts/contacts';
import { nextAllowedInstant } from './quiet-hours';

/**
 * When a marketing send may go: now when the sending window is open (or there is none), else its
 * next opening, in the contact's time zone (else the window's). The journey's window wins over
 * the global one (SENDING_WINDOW).
 */
export async function nextSendingMoment(
  db: Database, req: { contactId: string; from: string; window?: SendingWindow }, global?: SendingWindow,
): Promise<{ at: string; window: string | null }> {
  const window = req.window ?? global;
  if (!window) return { at: req.from, window: null };
  const contact = await findContact(db, req.contactId);
  const timezone = contact?.timezone ?? window.timezone;
  const at = nextAllowedInstant(new Date(req.from), { between: { start: window.start, end: window.end }, weekdays: window.weekdays }, timezone);
  return { at: at.toISOString(), window: `${window.start}-${window.end} ${timezone}${req.window ? '' : ' (global)'}` };
}

/** SENDING_WINDOW ("08:00-21:00") and SENDING_WINDOW_TIMEZONE as a window, or undefined when unset. */
export function parseSendingWindow(value: string | undefined, timezone: string): SendingWindow | undefined {
  const match = value ? /^(\d{2}:\d{2})-(\d{2}:\d{2})$/.exec(value) : null;
  return match ? { start: match[1]!, end: match[2]!, timezone } : undefined;
}
