import { assign, bucketOf, evaluate, readsEngagement, type Facts } from '../../journey-language';

const facts: Facts = {
  contact: { email: 'Ada@Example.com', score: 72, lifecycleStage: 'lead', tags: ['vip', 'beta'], attributes: { plan: 'pro', seats: '12' } },
  event: { name: 'order_placed', properties: { amount: 120, currency: 'EUR', at: '2026-03-01T10:00:00Z' } },
  engagement: { welcome: { opened: true } },
};

describe('conditions', () => {
  it('compares fields, tags, score, event properties and engagement', () => {
    expect(evaluate({ field: 'contact.score', op: 'gte', value: 50 }, facts)).toBe(true);
    expect(evaluate({ field: 'contact.email', op: 'eq', value: 'ada@example.com' }, facts)).toBe(true);
    expect(evaluate({ field: 'contact.attributes.seats', op: 'gt', value: 10 }, facts)).toBe(true);
    expect(evaluate({ field: 'contact.attributes.plan', op: 'in', value: ['pro', 'enterprise'] }, facts)).toBe(true);
    expect(evaluate({ field: 'contact.attributes.missing', op: 'exists' }, facts)).toBe(false);
    expect(evaluate({ tag: 'vip' }, facts)).toBe(true);
    expect(evaluate({ field: 'contact.tags', op: 'contains', value: 'beta' }, facts)).toBe(true);
    expect(evaluate({ field: 'event.properties.amount', op: 'lt', value: 100 }, facts)).toBe(false);
    expect(evaluate({ field: 'event.properties.at', op: 'gt', value: '2026-02-01' }, facts)).toBe(true);
    expect(evaluate({ engagement: { step: 'welcome', action: 'opened' } }, facts)).toBe(true);
    expect(evaluate({ engagement: { step: 'welcome', action: 'clicked' } }, facts)).toBe(false);
  });

  it('combines with all, any and not', () => {
    expect(evaluate({ all: [{ tag: 'vip' }, { not: { tag: 'churned' } }] }, facts)).toBe(true);
    expect(evaluate({ any: [{ tag: 'churned' }, { field: 'contact.score', op: 'lt', value: 10 }] }, facts)).toBe(false);
    expect(evaluate({ field: 'contact.score', op: 'gt', value: 'abc' }, facts)).toBe(false);
  });
});

describe('A/B splits', () => {
  it('assigns the same contact to the same variant every time', () => {
    const variants = [{ id: 'a', weight: 50 }, { id: 'b', weight: 50 }];
    expect(assign('journey:c-1', variants).id).toBe(assign('journey:c-1', variants).id);
  });

  it('fills variants in proportion to their weights over 1,000 contacts', () => {
    const options = [{ id: 'a', weight: 60 }, { id: 'b', weight: 30 }, { id: 'holdout', weight: 10 }];
    const counts: Record<string, number> = { a: 0, b: 0, holdout: 0 };
    for (let i = 0; i < 1000; i++) counts[assign(`spring-promo:${crypto.randomUUID()}`, options).id]! += 1;
    // Binomial standard deviation is at most ~16 at n = 1000: allow 4 of them.
    expect(Math.abs(counts.a! - 600)).toBeLessThan(64);
    expect(Math.abs(counts.b! - 300)).toBeLessThan(60);
    expect(Math.abs(counts.holdout! - 100)).toBeLessThan(40);
  });

  it('spreads sequential ids evenly', () => {
    const below = Array.from({ length: 1000 }, (_, i) => bucketOf(`j:contact-${i}`)).filter((b) => b < 0.5).length;
    expect(Math.abs(below - 500)).toBeLessThan(64);
  });
});

describe('readsEngagement (a branch loads engagement only when a condition reads it)', () => {
  it('finds an engagement test at any depth, and only there', () => {
    expect(readsEngagement({ field: 'contact.score', op: 'gte', value: 1 })).toBe(false);
    expect(readsEngagement({ all: [{ tag: 'vip' }, { not: { any: [{ field: 'contact.plan', op: 'eq', value: 'pro' }] } }] })).toBe(false);
    expect(readsEngagement({ engagement: { step: 'mail', action: 'opened' } })).toBe(true);
    expect(readsEngagement({ all: [{ tag: 'vip' }, { not: { any: [{ engagement: { step: 'mail', action: 'clicked' } }] } }] })).toBe(true);
  });
});
