import {
  evaluateSegment, JourneyDefinitionSchema, SegmentConditionSchema, segmentNeeds, type SegmentCondition, type SegmentFacts,
} from '../../journey-language';

const DAY = 86_400_000;
const now = Date.parse('2026-11-29T12:00:00Z');
const ago = (ms: number) => new Date(now - ms).toISOString();

const facts: SegmentFacts = {
  now,
  contact: { email: 'ada@example.com', score: 40, tags: ['trial'], lastSeenAt: ago(31 * DAY), attributes: { trialEndsAt: ago(-2 * DAY) } },
  events: [
    { name: 'pricing_page_visit', occurredAt: ago(2 * DAY), properties: { plan: 'pro' } },
    { name: 'pricing_page_visit', occurredAt: ago(9 * DAY), properties: { plan: 'team' } },
  ],
  emails: [{ opened: true, clicked: false }, { opened: false, clicked: false }, { opened: false, clicked: true }, { opened: true, clicked: false }],
};

const parse = (c: unknown) => SegmentConditionSchema.parse(c);

describe('segment conditions', () => {
  it('read relative time against the given now', () => {
    expect(evaluateSegment(parse({ field: 'contact.lastSeenAt', olderThan: '30d' }), facts)).toBe(true);
    expect(evaluateSegment(parse({ field: 'contact.lastSeenAt', olderThan: '32d' }), facts)).toBe(false);
    expect(evaluateSegment(parse({ field: 'contact.lastSeenAt', withinLast: '7d' }), facts)).toBe(false);
    // A date in the future is neither older than nor within the last anything.
    expect(evaluateSegment(parse({ field: 'contact.attributes.trialEndsAt', olderThan: '0s' }), facts)).toBe(false);
    expect(evaluateSegment(parse({ field: 'contact.attributes.trialEndsAt', olderThan: '0s' }), { ...facts, now: now + 3 * DAY })).toBe(true);
    expect(evaluateSegment(parse({ field: 'contact.attributes.missing', olderThan: '1d' }), facts)).toBe(false);
  });

  it('count events in a window, with a condition on their properties', () => {
    expect(evaluateSegment(parse({ did: { event: 'pricing_page_visit', within: '7d' } }), facts)).toBe(true);
    expect(evaluateSegment(parse({ did: { event: 'pricing_page_visit', within: '7d', atLeast: 2 } }), facts)).toBe(false);
    expect(evaluateSegment(parse({ did: { event: 'pricing_page_visit', atLeast: 2 } }), facts)).toBe(true);
    expect(evaluateSegment(parse({ did: { event: 'pricing_page_visit', where: { field: 'event.properties.plan', op: 'eq', value: 'team' }, within: '7d' } }), facts)).toBe(false);
    expect(evaluateSegment(parse({ not: { did: { event: 'demo_booked' } } }), facts)).toBe(true);
  });

  it('count engagement over the last n emails (a click counts as an open)', () => {
    expect(evaluateSegment(parse({ emails: { action: 'opened', atLeast: 2, ofLast: 3 } }), facts)).toBe(true);
    expect(evaluateSegment(parse({ emails: { action: 'opened', atLeast: 2, ofLast: 2 } }), facts)).toBe(false);
    expect(evaluateSegment(parse({ emails: { action: 'clicked', atLeast: 1, ofLast: 5 } }), facts)).toBe(true);
  });

  it('keep the contact conditions of the journey language', () => {
    expect(evaluateSegment(parse({ all: [{ tag: 'trial' }, { field: 'contact.score', op: 'lt', value: 50 }] }), facts)).toBe(true);
  });

  it('refuse what a segment cannot read, naming the field', () => {
    for (const bad of [
      { field: 'event.name', op: 'eq', value: 'x' },
      { field: 'contact.lastSeenAt', olderThan: '30d', withinLast: '1d' },
      { field: 'contact.lastSeenAt', olderThan: 'soon' },
      { emails: { action: 'opened', atLeast: 6, ofLast: 5 } },
      { emails: { action: 'opened', atLeast: 1, ofLast: 1000 } },
      { did: { event: 'x y' } },
      { engagement: { step: 'a', action: 'opened' } },
    ]) expect(SegmentConditionSchema.safeParse(bad).success).toBe(false);
    let deep: unknown = { tag: 'x' };
    for (let i = 0; i < 12; i += 1) deep = { not: deep };
    expect(SegmentConditionSchema.safeParse(deep).success).toBe(false);
  });

  it('say what they need loaded, and whether time alone changes them', () => {
    const needs = segmentNeeds([parse({ any: [{ did: { event: 'a', within: '7d' } }, { did: { event: 'a', within: '30d' } },
      { emails: { action: 'opened', atLeast: 1, ofLast: 5 } }] }) as SegmentCondition]);
    expect(needs.events.get('a')).toBe(30 * DAY);
    expect(needs.emails).toBe(5);
    expect(needs.timeRelative).toBe(true);
    expect(segmentNeeds([parse({ tag: 'vip' })]).timeRelative).toBe(false);
    expect(segmentNeeds([parse({ field: 'contact.lastSeenAt', olderThan: '30d' })])).toMatchObject({ lastSeen: true, timeRelative: true });
  });
});

describe('journeys on segments and contact state', () => {
  const steps = [{ id: 'hello', type: 'exit', reason: 'done' }];
  it('trigger on a saved segment or an inline condition, never both', () => {
    expect(JourneyDefinitionSchema.safeParse({ trigger: { type: 'segment', segment: 'trial-users' }, steps }).success).toBe(true);
    expect(JourneyDefinitionSchema.safeParse({ trigger: { type: 'segment', condition: { tag: 'vip' } }, steps }).success).toBe(true);
    const both = JourneyDefinitionSchema.safeParse({ trigger: { type: 'segment', segment: 'a', condition: { tag: 'vip' } }, steps });
    expect(both.success).toBe(false);
    expect(both.error!.issues[0]!.path).toEqual(['trigger', 'segment']);
  });

  it('take state goals, state exits and segmentLeft exits', () => {
    const parsed = JourneyDefinitionSchema.parse({
      goal: { condition: { field: 'contact.lifecycleStage', op: 'eq', value: 'customer' } },
      exits: [{ segmentLeft: 'trial-users' }, { condition: { tag: 'churned' }, reason: 'churned' }, { event: 'unsubscribed' }],
      steps,
    });
    expect(parsed.exits).toHaveLength(3);
    expect(JourneyDefinitionSchema.safeParse({ goal: {}, steps }).success).toBe(false);
    expect(JourneyDefinitionSchema.safeParse({ exits: [{ segmentLeft: 'Bad Key' }], steps }).success).toBe(false);
  });
});
