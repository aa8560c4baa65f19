import { approvalOutcome, holdersOf, slotFor, undecidedSlots, widenSlots, type ApprovalSlot, type RunTask } from '../../journey-language';

describe('escalating a process task widens its undecided slots', () => {
  it('lets the target stand in for one approver who has not decided, never twice', () => {
    const slots: ApprovalSlot[] = [
      { userIds: ['ann'], decision: 'approve', decidedBy: 'ann' },
      { userIds: ['bob'] },
      { userIds: ['cat', 'dan'], role: 'legal' },
    ];
    const before = slots[1]!;
    expect(slotFor(slots, 'eve')).toBeUndefined();
    const undecided = undecidedSlots(slots);
    expect(undecided).toEqual([1, 2]);
    widenSlots(slots, undecided, ['eve']);
    // In place: the run's workflow holds its slots by reference.
    expect(slots[1]).toBe(before);
    expect(slots.map((s) => s.userIds)).toEqual([['ann'], ['eve', 'bob'], ['eve', 'cat', 'dan']]);
    // The target shows first among who holds it (the run's Assignee search attribute).
    expect(holdersOf({ id: 't', status: 'open', overdue: false, values: {}, slots } as RunTask).userIds[0]).toBe('eve');
    const slot = slotFor(slots, 'eve')!;
    expect(slot).toBe(slots[1]);
    Object.assign(slot, { decision: 'approve', decidedBy: 'eve' });
    expect(slotFor(slots, 'eve')).toBeUndefined();
    expect(approvalOutcome('all_of', slots)).toBeUndefined();
    // Widening twice adds nobody twice.
    widenSlots(slots, [2], ['eve']);
    expect(slots[2]!.userIds).toEqual(['eve', 'cat', 'dan']);
  });
});
