import { automationFires, ProcessDefinitionSchema } from '../../journey-language';

const task = (automations: unknown, kind = 'checklist') => ({
  inputs: [{ name: 'journey', label: 'Journey', type: 'text' }],
  sections: [{ title: 'S', tasks: [{ id: 'a', kind, title: 'A', ...(kind === 'approval' ? { approvers: [{ role: 'r' }] } : {}), automations }] }],
});
const paths = (definition: unknown) => {
  const parsed = ProcessDefinitionSchema.safeParse(definition);
  return parsed.success ? [] : parsed.error.issues.map((i) => i.path.join('.'));
};

describe('process automations in the language', () => {
  it('fire on their moment: done on any finish by people, approved and rejected on that outcome only', () => {
    expect(['done', 'approved', 'rejected', 'skipped', 'cancelled', 'open'].map((s) => automationFires('done', s as never)))
      .toEqual([true, true, true, false, false, false]);
    expect(automationFires('approved', 'approved')).toBe(true);
    expect(automationFires('approved', 'rejected')).toBe(false);
    expect(automationFires('rejected', 'done')).toBe(false);
  });

  it('leave a definition without automations as it was (no field added, so a stored version is unchanged)', () => {
    const parsed = ProcessDefinitionSchema.parse({ sections: [{ title: 'S', tasks: [{ id: 'a', kind: 'checklist', title: 'A' }] }] });
    expect(Object.keys(parsed.sections[0]!.tasks[0]!)).not.toContain('automations');
  });

  it('read run values only by a reference to an input or a field, never by a path of their own', () => {
    expect(paths(task([{ on: 'done', do: { type: 'pause_journey', journey: { from: 'run.inputs.journey' } } }]))).toEqual([]);
    for (const from of ['run.inputs', '../etc/passwd', 'task.a.values.x.y', 'contact.email', 'run.inputs.journey{{x}}']) {
      const refused = paths(task([{ on: 'done', do: { type: 'pause_journey', journey: { from } } }]));
      expect(refused.length).toBeGreaterThan(0);
      for (const p of refused) expect(p).toMatch(/^sections\.0\.tasks\.0\.automations\.0\.do\.journey/);
    }
  });

  it('refuse an approval outcome on a task that is no approval, and nothing to change', () => {
    expect(paths(task([{ on: 'approved', do: { type: 'resume_journey', journey: 'j' } }]))).toEqual(['sections.0.tasks.0.automations.0.on']);
    expect(paths(task([{ on: 'rejected', do: { type: 'resume_journey', journey: 'j' } }], 'approval'))).toEqual([]);
    expect(paths(task([{ on: 'done', do: { type: 'update_contacts', segment: 's' } }]))).toEqual(['sections.0.tasks.0.automations.0.do.set']);
    expect(paths(task([{ on: 'done', do: { type: 'webhook', url: 'https://example.com', timeout: '5m' } }]))).toEqual(['sections.0.tasks.0.automations.0.do.timeout']);
    // A webhook body's strings are templates, checked as a notify step's are: no files read.
    expect(paths(task([{ on: 'done', do: { type: 'webhook', url: 'https://example.com', body: { a: { b: ["{% include 'x' %}"] } } } }])))
      .toEqual(['sections.0.tasks.0.automations.0.do.body.a.b.0']);
  });
});
