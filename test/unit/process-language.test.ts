import {
  JourneyDefinitionSchema, approvalOutcome, nextMoves, ProcessDefinitionSchema, progressOf, slotFor, type ProcessDefinition, type RunTask,
} from '../../journey-language';

const definition: ProcessDefinition = ProcessDefinitionSchema.parse({
  inputs: [{ name: 'paid', label: 'Paid?', type: 'checkbox' }],
  sections: [
    { title: 'One', tasks: [
      { id: 'brief', kind: 'form', title: 'Brief', fields: [{ name: 'claims', label: 'Claims?', type: 'checkbox' }] },
      { id: 'legal', kind: 'approval', title: 'Legal', approvers: [{ role: 'legal' }], when: { field: 'task.brief.values.claims', op: 'eq', value: true } },
      { id: 'gate', kind: 'checklist', title: 'Gate', stop: true },
    ] },
    { title: 'Two', tasks: [
      { id: 'budget', kind: 'checklist', title: 'Budget', when: { field: 'run.inputs.paid', op: 'eq', value: true } },
      { id: 'launch', kind: 'checklist', title: 'Launch' },
    ] },
  ],
});

const fresh = (): Record<string, RunTask> => Object.fromEntries(['brief', 'legal', 'gate', 'budget', 'launch']
  .map((id) => [id, { id, status: 'pending', overdue: false, values: {} } as RunTask]));
const ids = (moves: { open: Array<{ id: string }>; skip: Array<{ id: string }> }) => ({ open: moves.open.map((t) => t.id), skip: moves.skip.map((t) => t.id) });

describe('process runs move by their definition', () => {
  it('holds tasks behind an unfinished stop task, and a conditional task until the task it reads finished', () => {
    const tasks = fresh();
    expect(ids(nextMoves(definition, tasks, {}))).toEqual({ open: ['brief', 'gate'], skip: [] });
    Object.assign(tasks.brief!, { status: 'done', values: { claims: false } });
    tasks.gate!.status = 'open';
    expect(ids(nextMoves(definition, tasks, {}))).toEqual({ open: [], skip: ['legal'] });
    tasks.legal!.status = 'skipped';
    tasks.gate!.status = 'done';
    expect(ids(nextMoves(definition, tasks, { paid: true }))).toEqual({ open: ['budget', 'launch'], skip: [] });
    expect(ids(nextMoves(definition, tasks, { paid: false }))).toEqual({ open: ['launch'], skip: ['budget'] });
  });

  it('decides approvals by mode; nobody fills two slots', () => {
    const slots = [{ userIds: ['a', 'b'] }, { userIds: ['a', 'c'] }];
    expect(slotFor(slots, 'a')).toBe(slots[0]);
    expect(slotFor([{ ...slots[0]!, decision: 'approve', decidedBy: 'a' }, slots[1]!], 'a')).toBeUndefined();
    expect(approvalOutcome('all_of', [{ userIds: [], decision: 'approve' }, { userIds: [] }])).toBeUndefined();
    expect(approvalOutcome('all_of', [{ userIds: [], decision: 'approve' }, { userIds: [], decision: 'approve' }])).toBe('approve');
    expect(approvalOutcome('all_of', [{ userIds: [], decision: 'reject' }, { userIds: [] }])).toBe('reject');
    expect(approvalOutcome('any_of', [{ userIds: [], decision: 'reject' }, { userIds: [] }])).toBeUndefined();
    expect(approvalOutcome('any_of', [{ userIds: [], decision: 'reject' }, { userIds: [], decision: 'approve' }])).toBe('approve');
    expect(approvalOutcome('any_of', [{ userIds: [], decision: 'reject' }, { userIds: [], decision: 'reject' }])).toBe('reject');
  });

  it('counts progress without skipped tasks and names the next holder', () => {
    const tasks = fresh();
    Object.assign(tasks.brief!, { status: 'done' });
    Object.assign(tasks.legal!, { status: 'skipped' });
    Object.assign(tasks.gate!, { status: 'open', overdue: true, slots: [{ userIds: ['u1'], role: 'ops' }] });
    expect(progressOf(definition, tasks)).toEqual({ done: 1, total: 4, skipped: 1, overdue: ['gate'], next: { taskId: 'gate', userIds: ['u1'], roles: ['ops'] } });
  });

  it('refuses conditions over contact facts, later tasks and unknown inputs', () => {
    const parsed = ProcessDefinitionSchema.safeParse({ sections: [{ title: 'S', tasks: [
      { id: 'a', kind: 'checklist', title: 'A', when: { all: [{ tag: 'vip' }, { field: 'run.inputs.nope', op: 'exists' }, { field: 'task.b.status', op: 'eq', value: 'done' }] } },
      { id: 'b', kind: 'checklist', title: 'B' },
    ] }] });
    expect(parsed.success).toBe(false);
    expect(parsed.error!.issues.map((i) => i.message)).toEqual([
      'task "a": a process condition reads run.inputs.* and task.* only (no tags or engagement)',
      'task "a": "run.inputs.nope" is not one of the run\'s inputs (run.inputs.<name>)',
      'task "a": "task.b.status" does not read an earlier task',
    ]);
  });

  it('keeps run.* and task.* fields out of journeys', () => {
    const parsed = JourneyDefinitionSchema.safeParse({
      trigger: { type: 'segment', condition: { field: 'run.inputs.plan', op: 'exists' } },
      steps: [{ id: 'b', type: 'branch', cases: [{ condition: { field: 'task.brief.status', op: 'eq', value: 'done' }, next: 'x' }], default: 'x' }, { id: 'x', type: 'exit' }],
    });
    expect(parsed.error?.issues.map((i) => `${i.path.join('.')}: ${i.message}`)).toEqual([
      'steps.0.cases.0.condition: step "b": run.* and task.* fields are only available in processes',
      'trigger.condition: run.* and task.* fields are only available in processes',
    ]);
  });
});
