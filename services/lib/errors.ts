/**
 * Domain errors carry the HTTP status, a stable code and, where it helps, the field at fault.
 * The API's error handler turns them into `{ "error": { "code", "message", "details"? } }`.
 */
export class DomainError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly details?: unknown,
  ) {
    super(message);
    this.name = 'DomainError';
  }
}

export const notFound = (what: string, field: string, value: string) =>
  new DomainError(404, `${what}_not_found`, `No ${what.replace(/_/g, ' ')} with ${field} "${value}"`, { field, value });

export const conflict = (code: string, message: string, details?: unknown) =>
  new DomainError(409, code, message, details);

export interface FieldProblem {
  path: string;
  message: string;
  stepId?: string;
}

export const invalid = (code: string, message: string, problems: FieldProblem[]) =>
  new DomainError(422, code, message, { problems });

/**
 * An error no retry can fix, raised by a step's side effect: the contact is unknown or erased, a
 * template cannot render with this contact's data. The worker turns it into a non-retryable
 * failure; the enrolment records it and ends `failed` instead of retrying forever.
 */
export class PermanentError extends Error {
  constructor(readonly code: string, message: string) {
    super(message);
    this.name = 'PermanentError';
  }
}

/** HTTP-like statuses that a later attempt may see differently (timeout, conflict, too many requests). */
const RETRYABLE_4XX = new Set([408, 409, 429]);

/** Whether retrying cannot help: a PermanentError, or a domain error that is the caller's mistake (4xx). */
export function isPermanent(err: unknown): err is PermanentError | DomainError {
  if (err instanceof PermanentError) return true;
  return err instanceof DomainError && err.status >= 400 && err.status < 500 && !RETRYABLE_4XX.has(err.status);
}
