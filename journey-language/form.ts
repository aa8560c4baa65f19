import type { FormField } from './definition';
import { matchesPattern, MAX_TEXT_VALUE } from './form-pattern';

export { MAX_PATTERN_PROGRAM, MAX_TEXT_VALUE, patternProblem } from './form-pattern';

export interface FormProblem {
  field: string;
  message: string;
}

/**
 * Checks an approver's values against the task's form fields. Pure and deterministic: the
 * workflow's update validator, the API and the form page all use it.
 */
export function validateValues(fields: FormField[], values: Record<string, unknown>): FormProblem[] {
  const problems: FormProblem[] = [];
  const known = new Set(fields.map((f) => f.name));
  for (const name of Object.keys(values)) {
    if (!known.has(name)) problems.push({ field: name, message: 'is not a field of this form' });
  }
  for (const field of fields) {
    const value = values[field.name];
    const empty = value === undefined || value === null || value === '' || (field.type === 'checkbox' && value === false);
    if (empty) {
      if (field.required) problems.push({ field: field.name, message: `${field.label} is required` });
      continue;
    }
    const problem = checkType(field, value);
    if (problem) problems.push({ field: field.name, message: `${field.label} ${problem}` });
  }
  return problems;
}

function checkType(field: FormField, value: unknown): string | undefined {
  switch (field.type) {
    case 'text':
    case 'long_text':
      if (typeof value !== 'string') return 'must be text';
      if (value.length > (field.maxLength ?? MAX_TEXT_VALUE)) return `must be at most ${field.maxLength ?? MAX_TEXT_VALUE} characters`;
      if (field.pattern !== undefined && !matchesPattern(field.pattern, value)) return 'is not in the expected format';
      return undefined;
    case 'number':
      if (typeof value !== 'number' || !Number.isFinite(value)) return 'must be a number';
      if (field.min !== undefined && value < field.min) return `must be at least ${field.min}`;
      if (field.max !== undefined && value > field.max) return `must be at most ${field.max}`;
      return undefined;
    case 'select':
      return typeof value === 'string' && field.options?.includes(value) ? undefined : `must be one of: ${field.options?.join(', ')}`;
    case 'checkbox':
      return typeof value === 'boolean' ? undefined : 'must be true or false';
    case 'date':
      return typeof value === 'string' && /^\d{4}-\d{2}-\d{2}$/.test(value) && !Number.isNaN(Date.parse(value)) ? undefined : 'must be a date (YYYY-MM-DD)';
    default:
      return undefined;
  }
}
