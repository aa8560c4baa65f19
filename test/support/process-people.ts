import { uniqueEmail, uniqueKey, type Harness } from './harness';

/** A user with an approver key bound to them (the key's header as `auth`), for process tests. */
export async function approverUser(h: Harness, roles: string[] = []) {
  const created = await h.api('POST', '/v1/users', { email: uniqueEmail('user'), name: 'User', roles });
  const key = await h.api('POST', '/v1/api-keys', { name: 'approver', scopes: ['approver'], userId: created.body.id });
  return { id: created.body.id as string, email: created.body.email as string, auth: { authorization: `Bearer ${key.body.key}` } };
}

/** Creates and publishes a process definition; its key. */
export async function publishProcess(h: Harness, definition: unknown, key = uniqueKey('process')): Promise<string> {
  const created = await h.api('POST', '/v1/processes', { key, name: 'Launch', definition });
  if (created.status !== 201) throw new Error(JSON.stringify(created.body));
  const published = await h.api('POST', `/v1/processes/${key}/publish`);
  if (published.status !== 201) throw new Error(JSON.stringify(published.body));
  return key;
}
