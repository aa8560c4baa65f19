import { assign } from '../../journey-language';
import { eventually, startHarness, uniqueEmail, type Harness } from '../support/harness';

/** Step types, goals and exits, and versions, with durations in seconds on the real server. */
describe('journey steps', () => {
  let h: Harness;
  beforeAll(async () => { h = await startHarness(); });
  afterAll(async () => { await h?.stop(); });

  async function enrol(key: string, contact: Record<string, unknown> = {}) {
    const r = await h.api('POST', `/v1/journeys/${key}/enrolments`, { contact: { email: uniqueEmail(), ...contact } });
    expect(r.status).toBe(201);
    return r.body as { id: string; workflowId: string; contactId: string };
  }
  const waitingAt = (id: string, step: string) => eventually(async () => (await h.api('GET', `/v1/enrolments/${id}`)).body.currentStep === step);
  const send = (contactId: string, name: string, properties: Record<string, unknown> = {}) =>
    h.api('POST', '/v1/events', { contactId, name, properties });

  it('a goal event ends a waiting enrolment as converted; an exit event ends one early with its reason', async () => {
    const key = await h.publish({
      goal: { event: 'demo_booked' },
      exits: [{ event: 'unsubscribed', reason: 'unsubscribed' }, { event: 'lifecycle_changed', condition: { field: 'event.properties.stage', op: 'eq', value: 'customer' }, reason: 'became customer' }],
      steps: [{ id: 'long', type: 'wait', duration: '1h', next: 'never' }, { id: 'never', type: 'send_email', subject: 'x', text: 'x' }],
    });
    const converted = await enrol(key);
    const exited = await enrol(key);
    const stays = await enrol(key);
    await Promise.all([converted, exited, stays].map((e) => waitingAt(e.id, 'long')));
    expect((await send(converted.contactId, 'demo_booked')).body.delivered).toBe(1);
    await send(exited.contactId, 'lifecycle_changed', { stage: 'lead' });
    await send(exited.contactId, 'lifecycle_changed', { stage: 'customer' });
    expect(await h.result(converted.workflowId)).toMatchObject({ status: 'converted', reason: 'goal event "demo_booked"' });
    expect(await h.result(exited.workflowId)).toMatchObject({ status: 'exited', reason: 'became customer' });
    const view = await h.api('GET', `/v1/enrolments/${exited.id}`);
    expect(view.body.status).toBe('exited');
    expect(view.body.path.at(-1)).toMatchObject({ action: 'enrolment.exited', details: { reason: 'became customer' } });
    expect(h.smtp.messages.filter((m) => m.parsed.subject === 'x')).toHaveLength(0);
    // The third is still waiting; cancelling ends it.
    expect((await h.api('POST', `/v1/enrolments/${stays.id}/cancel`, { reason: 'test over' })).status).toBe(202);
    expect(await h.result(stays.workflowId)).toMatchObject({ status: 'cancelled', reason: 'test over' });
  });

  it('wait_for_event takes the event path when it arrives and the timeout path when it does not', async () => {
    const key = await h.publish({
      steps: [
        { id: 'await', type: 'wait_for_event', event: 'trial_started', condition: { field: 'event.properties.plan', op: 'eq', value: 'pro' }, timeout: '3s', next: 'welcome_pro', onTimeout: 'nudge' },
        { id: 'welcome_pro', type: 'update_contact', addTags: ['pro-trial'] },
        { id: 'nudge', type: 'update_contact', addTags: ['nudged'] },
      ],
    });
    const receives = await enrol(key);
    const times = await enrol(key);
    await waitingAt(receives.id, 'await');
    await send(receives.contactId, 'trial_started', { plan: 'basic' }); // does not match the condition
    await send(receives.contactId, 'trial_started', { plan: 'pro' });
    const got = await h.result(receives.workflowId);
    expect(got.path.map((p: { stepId: string; outcome: string }) => `${p.stepId}:${p.outcome}`)).toEqual(['await:received', 'welcome_pro:updated']);
    const timedOut = await h.result(times.workflowId);
    expect(timedOut.path.map((p: { stepId: string; outcome: string }) => `${p.stepId}:${p.outcome}`)).toEqual(['await:timed_out', 'nudge:updated']);
    expect((await h.api('GET', `/v1/contacts/${times.contactId}`)).body.tags).toEqual(['nudged']);
  });

  it('a branch follows engagement with an earlier email of the enrolment', async () => {
    const key = await h.publish({
      steps: [
        { id: 'offer', type: 'send_email', subject: 'Our offer', text: 'Look', next: 'pause' },
        { id: 'pause', type: 'wait', duration: '2s', next: 'check' },
        { id: 'check', type: 'branch', cases: [{ condition: { engagement: { step: 'offer', action: 'clicked' } }, next: 'hot' }, { condition: { engagement: { step: 'offer', action: 'opened' } }, next: 'warm' }], default: 'cold' },
        { id: 'hot', type: 'update_contact', addTags: ['hot'] },
        { id: 'warm', type: 'update_contact', addTags: ['warm'] },
        { id: 'cold', type: 'update_contact', addTags: ['cold'] },
      ],
    });
    const [clicker, opener, ignorer] = [await enrol(key), await enrol(key), await enrol(key)];
    await Promise.all([clicker, opener].map((e) => waitingAt(e.id, 'pause')));
    await send(clicker.contactId, 'email_clicked', { enrolmentId: clicker.id, stepId: 'offer' });
    await send(opener.contactId, 'email_opened', { enrolmentId: opener.id, stepId: 'offer' });
    const tagsOf = async (e: { workflowId: string; contactId: string }) => {
      await h.result(e.workflowId);
      return (await h.api('GET', `/v1/contacts/${e.contactId}`)).body.tags;
    };
    expect(await tagsOf(clicker)).toEqual(['hot']);
    expect(await tagsOf(opener)).toEqual(['warm']);
    expect(await tagsOf(ignorer)).toEqual(['cold']);
  });

  it('a split sends each contact down its deterministic variant; the holdout gets no steps', async () => {
    const definition = {
      goal: { event: 'purchased' },
      steps: [
        { id: 'ab', type: 'split', variants: [{ id: 'a', weight: 45, next: 'mail_a' }, { id: 'b', weight: 45, next: 'mail_b' }], holdout: { weight: 10, duration: '2s' } },
        { id: 'mail_a', type: 'send_email', subject: 'Variant A', text: 'a' },
        { id: 'mail_b', type: 'send_email', subject: 'Variant B', text: 'b' },
      ],
    };
    const key = await h.publish(definition);
    const options = [{ id: 'a', weight: 45 }, { id: 'b', weight: 45 }, { id: 'holdout', weight: 10 }];
    // Pick contacts (by id) that the pure assignment puts in each bucket, then run them for real.
    const byVariant = new Map<string, { id: string; workflowId: string; contactId: string }>();
    while (byVariant.size < 3) {
      const contact = await h.api('POST', '/v1/contacts', { email: uniqueEmail('split') });
      const variant = assign(`${key}:ab:${contact.body.id}`, options).id;
      if (byVariant.has(variant)) continue;
      const r = await h.api('POST', `/v1/journeys/${key}/enrolments`, { contactId: contact.body.id });
      byVariant.set(variant, r.body);
    }
    for (const variant of ['a', 'b']) {
      const e = byVariant.get(variant)!;
      expect(await h.result(e.workflowId)).toMatchObject({ status: 'completed', variant });
      const email = (await h.api('GET', `/v1/contacts/${e.contactId}`)).body.email;
      expect(h.smtp.to(email).map((m) => m.parsed.subject)).toEqual([`Variant ${variant.toUpperCase()}`]);
    }
    const holdout = byVariant.get('holdout')!;
    await waitingAt(holdout.id, 'ab');
    await send(holdout.contactId, 'purchased');
    expect(await h.result(holdout.workflowId)).toMatchObject({ status: 'converted', variant: 'holdout' });
  });

  it('wait-until computes quiet hours in the contact\'s time zone', async () => {
    const key = await h.publish({
      steps: [
        { id: 'office', type: 'wait', until: { between: { start: '00:00', end: '23:59' }, timezone: 'UTC' }, next: 'done' },
        { id: 'done', type: 'update_contact', addTags: ['reached'] },
      ],
    });
    const e = await enrol(key, { timezone: 'Asia/Tokyo' });
    await h.result(e.workflowId);
    const path = (await h.api('GET', `/v1/enrolments/${e.id}`)).body.path;
    expect(path.find((p: { action: string }) => p.action === 'wait.started').details.until).toBeDefined();
  });

  it('running enrolments stay on their version; new ones take the latest', async () => {
    const v1 = { steps: [{ id: 'pause', type: 'wait', duration: '2s', next: 'mail' }, { id: 'mail', type: 'send_email', subject: 'Version one', text: '1' }] };
    const key = await h.publish(v1);
    const old = await enrol(key);
    await waitingAt(old.id, 'pause');
    await h.api('PUT', `/v1/journeys/${key}/draft`, { definition: { steps: [{ id: 'mail', type: 'send_email', subject: 'Version two', text: '2' }] } });
    expect((await h.api('POST', `/v1/journeys/${key}/publish`)).body.version).toBe(2);
    const fresh = await enrol(key);
    expect(fresh).toMatchObject({ journeyVersion: 2 });
    await Promise.all([h.result(old.workflowId), h.result(fresh.workflowId)]);
    const subjectOf = async (e: { contactId: string }) => {
      const email = (await h.api('GET', `/v1/contacts/${e.contactId}`)).body.email;
      return h.smtp.to(email).map((m) => m.parsed.subject);
    };
    expect(await subjectOf(old)).toEqual(['Version one']);
    expect(await subjectOf(fresh)).toEqual(['Version two']);
    expect((await h.api('GET', `/v1/enrolments/${old.id}`)).body.journeyVersion).toBe(1);
  });
});
