import { draftProblems } from '../../services/journeys/journeys';

/** Publishing knows which names exist at each step: `trigger.*` with an event trigger, `event.*` where an event is at hand. */
describe('names in scope at each step', () => {
  const byPath = (definition: unknown) => Object.fromEntries(draftProblems(definition).map((p) => [p.path, p.message]));
  const onFormat = { field: 'trigger.properties.format', op: 'eq', value: 'pdf' };
  const onPlan = { field: 'event.properties.plan', op: 'eq', value: 'pro' };

  it('takes trigger.* everywhere in a journey with an event trigger', () => {
    expect(byPath({
      trigger: { type: 'event', event: 'ebook_downloaded', condition: onFormat },
      goal: { event: 'purchased', condition: onFormat },
      exits: [{ event: 'churned', condition: onFormat }],
      steps: [
        { id: 'mail', type: 'send_email', subject: 'Your {{ trigger.properties.ebook }}', text: 'Hi', html: '<p>{{ trigger.name }}</p>', next: 'b' },
        { id: 'b', type: 'branch', cases: [{ condition: onFormat, next: 'w' }], default: 'w' },
        { id: 'w', type: 'wait_for_event', event: 'opened', condition: onFormat, timeout: '1d', next: 'n' },
        { id: 'n', type: 'notify', url: 'https://example.com/hook', body: { ebook: '{{ trigger.properties.ebook }}' } },
      ],
    })).toEqual({});
  });

  it('refuses trigger.* in a journey without an event trigger, naming each step and field', () => {
    const problems = byPath({
      trigger: { type: 'segment', condition: { tag: 'vip' } },
      goal: { event: 'purchased', condition: onFormat },
      exits: [{ event: 'churned', condition: onFormat }],
      steps: [
        { id: 'mail', type: 'send_email', subject: 'Hi', text: 'Your {{ trigger.properties.ebook | default: "book" }}', next: 'b' },
        { id: 'b', type: 'branch', cases: [{ condition: { all: [{ tag: 'x' }, onFormat] }, next: 'a' }], default: 'a' },
        { id: 'a', type: 'approval', title: 'Approve {{ trigger.name }}', assignee: { role: 'sales' } },
      ],
    });
    const message = 'trigger.* fields are only available in journeys with an event trigger';
    expect(problems).toEqual({
      'definition.goal.condition': `goal: ${message}`,
      'definition.exits[0].condition': `exit 1: ${message}`,
      'definition.steps[0].text': `step "mail": ${message}`,
      'definition.steps[1].cases[0].condition': `step "b": ${message}`,
      'definition.steps[2].title': `step "a": ${message}`,
    });
  });

  it('takes event.* in a branch entered only right after a wait_for_event received its event', () => {
    expect(byPath({
      steps: [
        { id: 'w', type: 'wait_for_event', event: 'trial_started', timeout: '1d', next: 'plan', onTimeout: 'late' },
        { id: 'plan', type: 'branch', cases: [{ condition: onPlan, next: 'seats' }], default: 'late' },
        { id: 'seats', type: 'branch', cases: [{ condition: { field: 'event.properties.seats', op: 'gt', value: 5 }, next: 'late' }] },
        { id: 'late', type: 'exit' },
      ],
    })).toEqual({});
  });

  it('refuses event.* in a branch without an event at hand', () => {
    const problems = byPath({
      steps: [
        { id: 'first', type: 'branch', cases: [{ condition: onPlan, next: 'w' }], default: 'w' },
        { id: 'w', type: 'wait_for_event', event: 'trial_started', timeout: '1d', next: 'plan', onTimeout: 'timedout' },
        { id: 'plan', type: 'branch', cases: [{ condition: onPlan, next: 'pause' }], default: 'pause' },
        { id: 'timedout', type: 'branch', cases: [{ condition: onPlan, next: 'pause' }], default: 'pause' },
        { id: 'pause', type: 'wait', duration: '1d', next: 'after' },
        { id: 'after', type: 'branch', cases: [{ condition: onPlan }] },
      ],
    });
    expect(Object.keys(problems).sort()).toEqual([
      'definition.steps[0].cases[0].condition', 'definition.steps[3].cases[0].condition', 'definition.steps[5].cases[0].condition',
    ]);
    expect(problems['definition.steps[3].cases[0].condition']).toContain('step "timedout": event.* fields are only available');
  });

  it('refuses event.* in a branch that is also entered another way', () => {
    const problems = byPath({
      steps: [
        { id: 'w', type: 'wait_for_event', event: 'trial_started', timeout: '1d', next: 'plan', onTimeout: 'wait' },
        { id: 'wait', type: 'wait', duration: '1h', next: 'plan' },
        { id: 'plan', type: 'branch', cases: [{ condition: onPlan }] },
      ],
    });
    expect(Object.keys(problems)).toEqual(['definition.steps[2].cases[0].condition']);
  });
});
