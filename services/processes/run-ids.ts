import { createHash } from 'node:crypto';

/**
 * A run id derived from what started the run (a scheduled workflow's id, an event and a process
 * key): the same start always gives the same id, so a retried start finds the run it made
 * instead of making a second. An RFC 9562 version-8 UUID over the SHA-256 of the name.
 */
export function derivedRunId(name: string): string {
  const hex = createHash('sha256').update(`nurture-process-run:${name}`).digest('hex');
  const variant = ((parseInt(hex[16]!, 16) & 0x3) | 0x8).toString(16);
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-8${hex.slice(13, 16)}-${variant}${hex.slice(17, 20)}-${hex.slice(20, 32)}`;
}
