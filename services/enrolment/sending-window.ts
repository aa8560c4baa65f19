import type { Database } from '../../db/client';
import type { SendingWindow } from '../../journey-language';
import { marketingSendTimesSince } from '../../db/queries/emails';
import { findContact } from '../contacts/contacts';
import type { FrequencyCap } from '../email/policy';
import { nextAllowedInstant } from './quiet-hours';

export interface SendingMomentRequest {
  contactId: string;
  from: string;
  window?: SendingWindow;
  /** `whenCapped: delay`: a send the frequency cap would skip waits until the cap allows it instead. */
  capDelay?: boolean;
}

/**
 * When a marketing send may go: not before the frequency cap allows it (with `capDelay`: when the
 * oldest email that fills the cap leaves its window), then the next moment the sending window is
 * open (now when it is, or there is none), in the contact's time zone (else the window's). The
 * journey's window wins over the global one (SENDING_WINDOW). `reason` says what delayed it.
 */
export async function nextSendingMoment(
  db: Database, req: SendingMomentRequest, global?: SendingWindow, cap?: FrequencyCap,
): Promise<{ at: string; window: string | null; reason: 'frequency_cap' | 'sending_window' | null }> {
  const from = new Date(req.from);
  const capFree = req.capDelay && cap ? await capFreesAt(db, req.contactId, from, cap) : undefined;
  const earliest = capFree && capFree > from ? capFree : from;
  const window = req.window ?? global;
  if (!window) return { at: earliest.toISOString(), window: null, reason: earliest > from ? 'frequency_cap' : null };
  const contact = await findContact(db, req.contactId);
  const timezone = contact?.timezone ?? window.timezone;
  const at = nextAllowedInstant(earliest, { between: { start: window.start, end: window.end }, weekdays: window.weekdays }, timezone);
  const reason = earliest > from ? 'frequency_cap' : at > from ? 'sending_window' : null;
  return { at: at.toISOString(), window: `${window.start}-${window.end} ${timezone}${req.window ? '' : ' (global)'}`, reason };
}

/** When the cap next allows a marketing email to this contact: now, or when enough of those in its window have left it. */
async function capFreesAt(db: Database, contactId: string, now: Date, cap: FrequencyCap): Promise<Date> {
  const times = await marketingSendTimesSince(db, contactId, new Date(now.getTime() - cap.windowMs));
  if (times.length < cap.count) return now;
  return new Date(times[times.length - cap.count]!.getTime() + cap.windowMs + 1_000);
}

/** SENDING_WINDOW ("08:00-21:00") and SENDING_WINDOW_TIMEZONE as a window, or undefined when unset. */
export function parseSendingWindow(value: string | undefined, timezone: string): SendingWindow | undefined {
  const match = value ? /^(\d{2}:\d{2})-(\d{2}:\d{2})$/.exec(value) : null;
  return match ? { start: match[1]!, end: match[2]!, timezone } : undefined;
}
