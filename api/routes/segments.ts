import { z } from 'zod';
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import type { Database } from '../../db/client';
import type { SegmentRow } from '../../db/schema';
import { SegmentConditionSchema, SegmentKeySchema } from '../../journey-language';
import { ContactSchema } from '../../services/contacts/schemas';
import { toContact } from '../../services/contacts/contacts';
import { previewSegment, PREVIEW_SCAN_LIMIT, segmentMembers } from '../../services/segments/members';
import { startSegmentScan } from '../../services/segments/schedules';
import { createSegment, getSegment, listSegments, listSegmentVersions, publishSegment, updateSegmentDraft } from '../../services/segments/segments';
import { scopes } from '../auth';
import type { RouteOptions } from '../deps';
import { errorResponses } from '../errors';
import { NextCursor, pageLimit, pageOf } from '../paging';

const KeyParams = z.object({ key: SegmentKeySchema });
const Contact = ContactSchema.meta({ id: 'Contact' });

const SegmentView = z.object({
  key: z.string(),
  name: z.string(),
  description: z.string().nullable(),
  condition: z.unknown().describe('the draft condition (a SegmentCondition)'),
  latestVersion: z.number().int().nullable().describe('membership follows this version; null until published'),
  versions: z.array(z.object({ version: z.number().int(), publishedAt: z.string() })).describe('the latest 100 published versions, oldest first'),
  createdAt: z.string(),
  updatedAt: z.string(),
}).meta({ id: 'Segment' });

const SegmentCreate = z.object({
  key: SegmentKeySchema,
  name: z.string().trim().min(1).max(200),
  description: z.string().max(2000).optional(),
  condition: SegmentConditionSchema,
});
const SegmentDraft = SegmentCreate.omit({ key: true }).partial({ name: true });
const Published = z.object({
  key: z.string(), version: z.number().int(), created: z.boolean(), timeRelative: z.boolean(),
  scan: z.string().describe('the workflow id of the scan that decides this version\'s membership over every contact'),
});

async function view(db: Database, row: SegmentRow): Promise<z.infer<typeof SegmentView>> {
  const versions = await listSegmentVersions(db, row.id);
  return {
    key: row.key, name: row.name, description: row.description, condition: row.draft, latestVersion: row.latestVersion,
    versions: versions.map((v) => ({ version: v.version, publishedAt: v.publishedAt.toISOString() })),
    createdAt: row.createdAt.toISOString(), updatedAt: row.updatedAt.toISOString(),
  };
}

export const segmentRoutes: FastifyPluginAsyncZod<RouteOptions> = async (app, { deps }) => {
  const db = deps.database.db;
  const tags = ['segments'];

  app.post('/segments', {
    config: scopes.admin,
    schema: {
      tags, summary: 'Create a segment with a draft condition',
      description: 'The condition is checked when saved (400 naming the field); publish it to keep its membership.',
      body: SegmentCreate, response: { 201: SegmentView, ...errorResponses },
    },
  }, async (request, reply) => reply.code(201).send(await view(db, await createSegment(db, request.body))));

  app.get('/segments', {
    config: scopes.service,
    schema: {
      tags, summary: 'List segments by key, a page at a time',
      querystring: z.object({ limit: pageLimit(), after: SegmentKeySchema.optional().describe('nextCursor of the previous page') }),
      response: { 200: z.object({ segments: z.array(SegmentView), nextCursor: NextCursor }), ...errorResponses },
    },
  }, async (request) => {
    const page = pageOf(await listSegments(db, request.query), request.query.limit, (row) => row.key);
    return { segments: await Promise.all(page.items.map((row) => view(db, row))), nextCursor: page.nextCursor };
  });

  app.get('/segments/:key', {
    config: scopes.service,
    schema: { tags, summary: 'Read a segment, its draft and its versions', params: KeyParams, response: { 200: SegmentView, ...errorResponses } },
  }, async (request) => view(db, await getSegment(db, request.params.key)));

  app.put('/segments/:key/draft', {
    config: scopes.admin,
    schema: { tags, summary: 'Replace the draft condition', params: KeyParams, body: SegmentDraft, response: { 200: SegmentView, ...errorResponses } },
  }, async (request) => view(db, await updateSegmentDraft(db, request.params.key, request.body)));

  app.post('/segments/:key/publish', {
    config: scopes.admin,
    schema: {
      tags, summary: 'Publish the draft as the next immutable version',
      description: 'Starts a scan that decides the new version\'s membership over every contact (entering and leaving emit `segment.entered` / `segment.left`). An unchanged draft returns the latest version (200).',
      params: KeyParams, response: { 200: Published, 201: Published, ...errorResponses },
    },
  }, async (request, reply) => {
    const { segment, version, created, timeRelative } = await publishSegment(db, request.params.key);
    const scan = await startSegmentScan(deps, segment.key, version);
    return reply.code(created ? 201 : 200).send({ key: segment.key, version, created, timeRelative, scan });
  });

  app.get('/segments/:key/contacts', {
    config: scopes.service,
    schema: {
      tags, summary: 'The segment\'s members, a page at a time, with their count',
      params: KeyParams,
      querystring: z.object({ limit: pageLimit(), after: z.uuid().optional().describe('nextCursor of the previous page') }),
      response: { 200: z.object({ count: z.number().int(), contacts: z.array(Contact), nextCursor: NextCursor }), ...errorResponses },
    },
  }, async (request) => {
    const members = await segmentMembers(db, request.params.key, request.query);
    const page = pageOf(members.contacts, request.query.limit, (row) => row.id);
    return { count: members.count, contacts: page.items.map(toContact), nextCursor: page.nextCursor };
  });

  app.post('/segments/preview', {
    config: scopes.service,
    schema: {
      tags, summary: 'Count a condition\'s matches now, with a sample, before saving it',
      description: `Evaluates the first ${PREVIEW_SCAN_LIMIT.toLocaleString('en')} contacts by id at most; \`complete\` is false when there were more. Writes nothing.`,
      body: z.object({ condition: SegmentConditionSchema, sampleSize: z.number().int().min(0).max(50).default(10) }),
      response: {
        200: z.object({ count: z.number().int(), scanned: z.number().int(), complete: z.boolean(), sample: z.array(Contact) }),
        ...errorResponses,
      },
    },
  }, async (request) => {
    const preview = await previewSegment(db, request.body.condition, request.body.sampleSize);
    return { ...preview, sample: preview.sample.map(toContact) };
  });
};
