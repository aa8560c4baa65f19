import { uniqueEmail, uniqueKey, type Harness } from './harness';

/** A review process and people on the real stack: an author (whose key is an admin key) and a reviewer, both in the reviewing role. */
export async function setUp(h: Harness, processKey = uniqueKey('review')) {
  const role = uniqueKey('reviewers');
  async function person(scopes: string[]) {
    const created = await h.api('POST', '/v1/users', { email: uniqueEmail('person'), name: 'Person', roles: [role] });
    const key = await h.api('POST', '/v1/api-keys', { name: 'person', scopes, userId: created.body.id });
    return { id: created.body.id as string, auth: { authorization: `Bearer ${key.body.key}` } };
  }
  const author = await person(['admin']);
  const reviewer = await person(['approver']);
  const definition = {
    sections: [{ title: 'Review', tasks: [{ id: 'content', kind: 'approval', title: 'Content approval', approvers: [{ role }], stop: true }] }],
  };
  expect((await h.api('POST', '/v1/processes', { key: processKey, name: 'Review', definition })).status).toBe(201);
  expect((await h.api('POST', `/v1/processes/${processKey}/publish`)).status).toBe(201);
  return { processKey, author, reviewer };
}

/** A decision on the review process's approval task `content`. */
export const decide = (h: Harness, processKey: string, runId: string, action: string, auth: Record<string, string>) =>
  h.api('POST', `/v1/processes/${processKey}/runs/${runId}/tasks/content/complete`, { action }, auth);
