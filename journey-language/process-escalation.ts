import type { ApprovalSlot } from './process-run';

/**
 * Escalating a process task widens it: the escalation target's people join each slot that had
 * not decided when it escalated (first, so the run's Assignee shows them), and may then act as
 * that slot's person would: tick the checklist, fill the form, or decide for one approver who
 * has not (never twice, never in a slot that decided). A task anyone may act on (no slots) stays
 * open to anyone. In place, as the run's workflow holds its slots by reference.
 */
export function widenSlots(slots: Array<Pick<ApprovalSlot, 'userIds'>>, indexes: number[], userIds: string[]): void {
  for (const i of indexes) {
    const slot = slots[i];
    if (slot) slot.userIds = [...new Set([...userIds, ...slot.userIds])];
  }
}

/** The slots that have not decided: the ones an escalation widens. */
export function undecidedSlots(slots: ApprovalSlot[]): number[] {
  return slots.flatMap((s, i) => (s.decision === undefined ? [i] : []));
}
