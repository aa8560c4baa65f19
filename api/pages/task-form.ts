import type { TaskRow } from '../../db/schema';
import type { FormField } from '../../journey-language';
import { escapeHtml as e, page } from './layout';

export interface FormState {
  token?: string;
  csrf: string;
  values?: Record<string, string>;
  errors?: Record<string, string>;
  decision?: string;
  comment?: string;
}

function input(field: FormField, state: FormState): string {
  const id = `f-${field.name}`;
  const value = state.values?.[field.name] ?? '';
  const error = state.errors?.[field.name];
  const describedBy = [field.help ? `${id}-help` : '', error ? `${id}-error` : ''].filter(Boolean).join(' ');
  const common = `id="${id}" name="${e(field.name)}"${field.required ? ' required aria-required="true"' : ''}${error ? ' aria-invalid="true"' : ''}${describedBy ? ` aria-describedby="${describedBy}"` : ''}`;
  let control: string;
  switch (field.type) {
    case 'long_text':
      control = `<textarea ${common} rows="4"${field.maxLength ? ` maxlength="${field.maxLength}"` : ''}>${e(value)}</textarea>`;
      break;
    case 'number':
      control = `<input type="number" step="any" ${common} value="${e(value)}"${field.min !== undefined ? ` min="${field.min}"` : ''}${field.max !== undefined ? ` max="${field.max}"` : ''}>`;
      break;
    case 'select':
      control = `<select ${common}><option value="">Choose…</option>${(field.options ?? []).map((o) => `<option${o === value ? ' selected' : ''}>${e(o)}</option>`).join('')}</select>`;
      break;
    case 'checkbox':
      control = `<input type="checkbox" ${common} value="true"${value === 'true' ? ' checked' : ''}>`;
      break;
    case 'date':
      control = `<input type="date" ${common} value="${e(value)}">`;
      break;
    default:
      control = `<input type="text" ${common} value="${e(value)}"${field.maxLength ? ` maxlength="${field.maxLength}"` : ''}>`;
  }
  return `<div class="field">
  <label for="${id}">${e(field.label)}${field.required ? ' <span aria-hidden="true">*</span>' : ''}</label>
  ${control}
  ${field.help ? `<p class="muted" id="${id}-help">${e(field.help)}</p>` : ''}
  ${error ? `<p class="error" id="${id}-error" role="alert">${e(error)}</p>` : ''}
</div>`;
}

/** What the form shows of a task: a journey approval's row, or a process task's. */
export type FormTask = Pick<TaskRow, 'id' | 'title' | 'description' | 'dueAt'> & { fields: unknown };

/** The buttons: each submits `decision` with its value (a process checklist or form task: one "complete" button). */
export const APPROVE_OR_REJECT = [{ value: 'approve', label: 'Approve' }, { value: 'reject', label: 'Reject' }];

/** The form: labelled fields, errors tied to their fields, its action buttons (approve and reject by default). */
export function taskFormPage(task: FormTask, state: FormState, actions = APPROVE_OR_REJECT): string {
  const fields = task.fields as FormField[];
  const errors = state.errors && Object.keys(state.errors).length
    ? `<div role="alert" class="error-summary"><p>Please correct ${Object.keys(state.errors).length === 1 ? 'this field' : 'these fields'}:</p><ul>${Object.entries(state.errors).map(([k, v]) => `<li><a href="#f-${e(k)}">${e(v)}</a></li>`).join('')}</ul></div>`
    : '';
  return page(task.title, `<h1>${e(task.title)}</h1>
${task.description ? `<p>${e(task.description)}</p>` : ''}
${task.dueAt ? `<p class="muted">Due ${e(task.dueAt.toISOString().replace('T', ' ').slice(0, 16))} UTC</p>` : ''}
${errors}
<form method="post" action="/tasks/${e(task.id)}" novalidate>
  <input type="hidden" name="_csrf" value="${e(state.csrf)}">
  ${state.token ? `<input type="hidden" name="token" value="${e(state.token)}">` : ''}
  ${fields.map((f) => input(f, state)).join('\n')}
  <div class="field">
    <label for="f-comment">Comment (optional)</label>
    <textarea id="f-comment" name="comment" rows="3" maxlength="5000">${e(state.comment ?? '')}</textarea>
  </div>
  <div class="actions">
    ${actions.map((a, i) => `<button type="submit" name="decision" value="${e(a.value)}"${i ? ' class="secondary"' : ''}>${e(a.label)}</button>`).join('\n    ')}
  </div>
</form>`);
}

export function messagePage(title: string, message: string): string {
  return page(title, `<h1>${e(title)}</h1><p>${e(message)}</p>`);
}
