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
