import {
  approvalMove, approvalStages, currentStage, openingOf, ProcessDefinitionSchema, progressOf, slotFor,
  type ApprovalSlot, type ApprovalTask, type ProcessDefinition, type RunTask,
} from '../../journey-language';

const definition: ProcessDefinition = ProcessDefinitionSchema.parse({ sections: [{ title: 'Review', tasks: [
  { id: 'review', kind: 'approval', mode: 'sequential', title: 'Review', stages: [
    { mode: 'any_of', approvers: [{ role: 'legal' }, { user: 'lee@example.com' }] },
    { approvers: [{ roundRobin: { role: 'brand' } }] },
  ] },
  { id: 'plain', kind: 'approval', mode: 'all_of', title: 'Plain', approvers: [{ user: 'a@example.com' }, { role: 'ops' }] },
  { id: 'tick', kind: 'checklist', title: 'Tick', assignee: { roundRobin: { users: ['a@example.com', 'b@example.com'] }, rotation: 'sales-desk' } },
] }] });
const review = definition.sections[0]!.tasks[0] as ApprovalTask;
const plain = definition.sections[0]!.tasks[1] as ApprovalTask;

const problems = (tasks: unknown[]) => {
  const parsed = ProcessDefinitionSchema.safeParse({ sections: [{ title: 'S', tasks }] });
  return parsed.success ? [] : parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`);
};

describe('sequential approval stages and round-robin assignees', () => {
  it('validates stages and rotations, naming the task and field', () => {
    expect(review.stages![1]!.mode).toBe('single');
    expect(problems([{ id: 'r', kind: 'approval', mode: 'sequential', title: 'R', approvers: [{ role: 'x' }] }])).toEqual([
      'sections.0.tasks.0.stages: a sequential approval has `stages` (at least two)',
      'sections.0.tasks.0.approvers: a sequential approval names its approvers in `stages`, not `approvers`',
    ]);
    expect(problems([{ id: 'r', kind: 'approval', title: 'R', stages: [{ approvers: [{ role: 'x' }] }, { approvers: [{ role: 'y' }] }] }])).toEqual([
      'sections.0.tasks.0.stages: `stages` are for a sequential approval (mode "sequential")',
      'sections.0.tasks.0.approvers: an approval has `approvers`',
    ]);
    expect(problems([{ id: 'r', kind: 'approval', mode: 'sequential', title: 'R', stages: [
      { approvers: [{ role: 'x' }, { role: 'y' }] }, { mode: 'all_of', approvers: [{ user: 'a@example.com' }] },
    ] }])).toEqual(['sections.0.tasks.0.stages.0.approvers: a single stage has exactly one approver']);
    expect(problems([{ id: 'r', kind: 'approval', mode: 'sequential', title: 'R', stages: [
      { approvers: [{ user: 'A@example.com' }] }, { mode: 'any_of', approvers: [{ role: 'x' }, { user: 'a@example.com' }] },
    ] }])).toEqual(['sections.0.tasks.0.stages.1.approvers.1: task "r": "a@example.com" is an approver of stage 1 already: nobody decides at two stages']);
    expect(problems([{ id: 'r', kind: 'approval', mode: 'sequential', title: 'R', stages: [{ approvers: [{ role: 'x' }] }] }]))
      .toEqual([expect.stringMatching(/^sections\.0\.tasks\.0\.stages: /)]);
    expect(problems([{ id: 'c', kind: 'checklist', title: 'C', assignee: { roundRobin: { role: 'sales' }, rotation: 'Not OK' } }]))
      .toEqual([expect.stringMatching(/^sections\.0\.tasks\.0\.assignee\.rotation: /)]);
    expect(problems([{ id: 'c', kind: 'checklist', title: 'C', assignee: { roundRobin: { users: [] } } }])).not.toEqual([]);
  });

  it('opens a sequential approval at its first stage; other tasks as before', () => {
    expect(openingOf(review)).toEqual({ assignees: review.stages![0]!.approvers, stage: 1 });
    expect(openingOf(plain)).toEqual({ assignees: plain.approvers });
    expect(openingOf(definition.sections[0]!.tasks[2]!)).toEqual({ assignees: [{ roundRobin: { users: ['a@example.com', 'b@example.com'] }, rotation: 'sales-desk' }] });
    expect(approvalStages(plain)).toEqual([{ mode: 'all_of', approvers: plain.approvers }]);
  });

  it('moves stage by stage: a stage approving opens the next, the last approves, any rejection rejects', () => {
    const stage1: ApprovalSlot[] = [{ userIds: ['l1', 'l2'], role: 'legal', stage: 1 }, { userIds: ['lee'], stage: 1 }];
    expect(approvalMove(review, [{ ...stage1[0]!, decision: 'reject' }, stage1[1]!])).toEqual({ status: 'open', stage: { number: 1 } });
    expect(approvalMove(review, [stage1[0]!, { ...stage1[1]!, decision: 'approve' }]))
      .toEqual({ status: 'open', stage: { number: 1, outcome: 'approved', next: { number: 2, approvers: [{ roundRobin: { role: 'brand' } }] } } });
    expect(approvalMove(review, [{ ...stage1[0]!, decision: 'reject' }, { ...stage1[1]!, decision: 'reject' }])).toEqual({ status: 'rejected', stage: { number: 1, outcome: 'rejected' } });
    const stage2: ApprovalSlot = { userIds: ['b1'], rotation: 'process:k:review:stage:2:0', stage: 2 };
    expect(approvalMove(review, [{ ...stage2, decision: 'approve' }])).toEqual({ status: 'approved', stage: { number: 2, outcome: 'approved' } });
    expect(approvalMove(review, [{ ...stage2, decision: 'reject' }])).toEqual({ status: 'rejected', stage: { number: 2, outcome: 'rejected' } });
    // Other modes move as approvalOutcome says, with no stage.
    expect(approvalMove(plain, [{ userIds: ['a'], decision: 'approve' }, { userIds: ['o'] }])).toEqual({ status: 'open' });
    expect(approvalMove(plain, [{ userIds: ['a'], decision: 'reject' }, { userIds: ['o'] }])).toEqual({ status: 'rejected' });
  });

  it("lets only the current stage's approvers decide, and shows that stage as the next holder", () => {
    const task: RunTask = { id: 'review', status: 'open', overdue: false, values: {}, slots: [{ userIds: ['b1'], rotation: 'r', stage: 2 }] };
    expect(slotFor(task.slots!, 'lee')).toBeUndefined();
    expect(slotFor(task.slots!, 'b1')).toBe(task.slots![0]);
    expect(currentStage(task)).toBe(2);
    expect(currentStage({ slots: [{ userIds: ['x'] }] })).toBeUndefined();
    const tasks: Record<string, RunTask> = {
      review: task, plain: { id: 'plain', status: 'pending', overdue: false, values: {} }, tick: { id: 'tick', status: 'pending', overdue: false, values: {} },
    };
    expect(progressOf(definition, tasks).next).toEqual({ taskId: 'review', userIds: ['b1'], roles: [], stage: 2 });
    tasks.review = { ...task, slots: [{ userIds: ['o'], role: 'ops' }] };
    expect(progressOf(definition, tasks).next).toEqual({ taskId: 'review', userIds: ['o'], roles: ['ops'] });
  });
});
