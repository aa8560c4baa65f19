import autocannon from 'autocannon';
import Fastify from 'fastify';
import { uniqueEmail } from '../test/support/harness';
import type { BenchContext } from './enrolment';

/**
 * Requests per second of `GET /v1/contacts/:id` (authenticated, validated, from PostgreSQL)
 * against a bare Fastify route answering the same body from memory, 10 connections for 5 s each.
 */
export async function apiRead({ h, results }: BenchContext): Promise<void> {
  const created = await h.api('POST', '/v1/contacts', { email: uniqueEmail('read'), attributes: { plan: 'pro' }, tags: ['bench'] });
  const id = created.body.id as string;
  const sample = (await h.api('GET', `/v1/contacts/${id}`)).body;
  const bare = Fastify();
  bare.get('/v1/contacts/:id', async () => sample);
  await bare.listen({ port: 0, host: '127.0.0.1' });
  const bareUrl = `http://127.0.0.1:${(bare.server.address() as { port: number }).port}`;
  const cannon = (url: string) => autocannon({ url, connections: 10, duration: 5, headers: { authorization: `Bearer ${h.keys.service}` } });
  try {
    const ours = await cannon(`${h.baseUrl}/v1/contacts/${id}`);
    if (ours.non2xx > 0) throw new Error(`API read route answered ${ours.non2xx} non-2xx responses`);
    const raw = await cannon(`${bareUrl}/v1/contacts/${id}`);
    results.ratio('API read route (requests/s)', ours.requests.average, raw.requests.average, 'req/s', true, 0.25);
  } finally {
    await bare.close();
  }
}
