import { eventInputs, eventStarts, ProcessStartOnSchema, type StartingEvent } from '../../journey-language';
import { derivedRunId } from '../../services/processes/run-ids';

/** A process's event start: what an untrusted event's properties can and cannot give a run. */
describe('process start on an event', () => {
  const startOn = ProcessStartOnSchema.parse({
    event: 'deal.won',
    inputs: { campaign: 'event.properties.deal.name', amount: 'event.properties.amount', source: 'event.name', who: 'contact.id', at: 'event.occurredAt' },
    condition: { field: 'event.properties.amount', op: 'gte', value: 10 },
  });
  const event = (properties: Record<string, unknown>): StartingEvent => ({
    id: 'e1', name: 'deal.won', occurredAt: '2026-11-29T00:00:00.000Z', properties, contactId: 'c1',
  });

  it('copies values from their paths and nothing else', () => {
    expect(eventInputs(startOn, event({ deal: { name: 'Spring', secret: 'x' }, amount: 12, other: 1 }))).toEqual({
      campaign: 'Spring', amount: 12, source: 'deal.won', who: 'c1', at: '2026-11-29T00:00:00.000Z',
    });
  });

  it('reads own properties of plain objects only: missing paths, arrays and prototype keys give nothing', () => {
    const hostile = JSON.parse('{"deal":{"__proto__":{"name":"Injected"}},"amount":[1]}') as Record<string, unknown>;
    expect(eventInputs(startOn, event(hostile))).toEqual({ amount: [1], source: 'deal.won', who: 'c1', at: '2026-11-29T00:00:00.000Z' });
    expect(eventInputs(startOn, event({ deal: 'Spring' })).campaign).toBeUndefined();
    expect(eventInputs(ProcessStartOnSchema.parse({ event: 'x', inputs: { a: 'event.properties.constructor' } }), event({}))).toEqual({});
  });

  it('starts on its event name when the condition holds', () => {
    expect(eventStarts(startOn, event({ amount: 10 }))).toBe(true);
    expect(eventStarts(startOn, event({ amount: 9 }))).toBe(false);
    expect(eventStarts(startOn, { ...event({ amount: 10 }), name: 'deal.lost' })).toBe(false);
  });

  it('refuses paths outside the event and too deep', () => {
    for (const path of ['contact.email', 'event.properties', 'event.properties.a.b.c.d.e.f', 'trigger.name', 'event.properties.a b']) {
      expect(ProcessStartOnSchema.safeParse({ event: 'x', inputs: { a: path } }).success).toBe(false);
    }
  });

  it('derives the same version-8 UUID for the same start, another for another', () => {
    const id = derivedRunId('event:e1:launch');
    expect(id).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-8[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    expect(derivedRunId('event:e1:launch')).toBe(id);
    expect(derivedRunId('event:e2:launch')).not.toBe(id);
  });
});
