import { randomUUID, type KeyObject } from 'node:crypto';
import { sql } from 'drizzle-orm';
import type { Database } from '../../db/client';
import { PermanentError } from '../lib/errors';
import { checkCheckpoint, CheckpointWriter, CHECKPOINT_FORMAT, parseHeads, type ChainHead, type CheckpointCheck, type CheckpointSummary } from './checkpoint-file';
import { checkpointName, type CheckpointSink } from './checkpoint-sink';

/** The signing key of checkpoints (kept outside the database) and where they go. */
export interface AuditCheckpointSettings {
  sink: CheckpointSink;
  privateKey: KeyObject;
  publicKey: KeyObject;
  /** The public key's id (keyIdOf) and PEM, as published beside the checkpoints. */
  keyId: string;
  publicKeyPem: string;
}

/** Chain heads read per statement while writing a checkpoint. */
const HEADS_PER_PAGE = 1000;
/** Bytes of a checkpoint read per page while comparing its heads (a head line is about 130). */
export const HEAD_BYTES_PER_PAGE = 256 * 1024;

type Rows<T> = { rows: T[] };

/** A page of chain heads after `after` (in the database's order of chain names): last seq, its hash, record count. */
async function headsAfter(db: Database, after: string, limit: number): Promise<ChainHead[]> {
  const { rows } = await db.execute(sql`
    select h.chain, h.seq, h.records, a.hash
    from (select chain, max(seq) as seq, count(*)::int as records from audit_records
          where chain > ${after} group by chain order by chain limit ${limit}) h
    join audit_records a on a.chain = h.chain and a.seq = h.seq
    order by h.chain`) as unknown as Rows<ChainHead>;
  return rows.map((r) => ({ chain: r.chain, seq: Number(r.seq), hash: r.hash, records: Number(r.records) }));
}

/** How a chain differs from its head in a checkpoint: gone, shorter, or rewritten below the head. */
export interface CheckpointFinding {
  chain: string;
  reason: 'chain_missing' | 'tail_deleted' | 'head_mismatch' | 'records_mismatch';
  message: string;
  checkpoint: { seq: number; hash: string; records: number };
  /** The chain now: its last seq, the hash of its record at the checkpointed seq, its records up to that seq. */
  found: { seq: number | null; hash: string | null; records: number };
}

/**
 * Compares checkpointed heads with the chains now, by index lookups per head: a chain grows
 * after a checkpoint but never loses a record, and the record at the checkpointed seq keeps its
 * hash. A rewrite anywhere up to the head changes that hash, even when every hash after it was
 * recomputed (the checkpoint holds the old one).
 */
export async function compareHeads(db: Database, heads: ChainHead[]): Promise<CheckpointFinding[]> {
  if (!heads.length) return [];
  const { rows } = await db.execute(sql`
    select h.chain,
      (select a.hash from audit_records a where a.chain = h.chain and a.seq = h.seq) as hash,
      (select max(a.seq) from audit_records a where a.chain = h.chain) as last_seq,
      (select count(*)::int from audit_records a where a.chain = h.chain and a.seq <= h.seq) as records
    from jsonb_to_recordset(${JSON.stringify(heads.map(({ chain, seq }) => ({ chain, seq })))}::jsonb) as h(chain text, seq int)`) as unknown as
    Rows<{ chain: string; hash: string | null; last_seq: number | null; records: number }>;
  const now = new Map(rows.map((r) => [r.chain, r]));
  const findings: CheckpointFinding[] = [];
  for (const head of heads) {
    const row = now.get(head.chain)!;
    const found = { seq: row.last_seq === null ? null : Number(row.last_seq), hash: row.hash, records: Number(row.records) };
    const at = `seq ${head.seq} (hash ${head.hash}, ${head.records} records)`;
    const finding = (reason: CheckpointFinding['reason'], message: string) => findings.push({ chain: head.chain, reason, message, checkpoint: { seq: head.seq, hash: head.hash, records: head.records }, found });
    if (found.seq === null) finding('chain_missing', `the checkpoint has the chain at ${at}; the database has no record of it`);
    else if (found.seq < head.seq || found.hash === null) finding('tail_deleted', `the checkpoint has the chain at ${at}; it now ends at seq ${found.seq} with ${found.records} records`);
    else if (found.hash !== head.hash) finding('head_mismatch', `the checkpoint has the chain at ${at}; its record at seq ${head.seq} now hashes to ${found.hash}: a record up to there was rewritten`);
    else if (found.records !== head.records) finding('records_mismatch', `the checkpoint has the chain at ${at}; it now has ${found.records} records up to seq ${head.seq}`);
  }
  return findings;
}

/** One page of a checkpoint's heads from byte `offset` (a line's start) up to `end`, and where the next page starts. */
export async function readHeadsPage(sink: CheckpointSink, name: string, offset: number, end: number): Promise<{ heads: ChainHead[]; next: number }> {
  const bytes = await sink.readRange(name, offset, Math.min(HEAD_BYTES_PER_PAGE, end - offset));
  const { heads, used } = parseHeads(bytes);
  if (!used && offset < end) throw new Error(`${name}: a head line at byte ${offset} is longer than ${HEAD_BYTES_PER_PAGE} bytes`);
  return { heads, next: offset + used };
}

/** The newest checkpoint that was completed (a sealed one), checked against the trusted key. */
export interface LatestCheckpoint {
  name: string;
  check: CheckpointCheck;
}

export async function latestCheckpoint(settings: AuditCheckpointSettings): Promise<LatestCheckpoint | undefined> {
  const names = await settings.sink.names();
  for (const name of names.reverse()) {
    const check = await checkCheckpoint(settings.sink.read(name), settings.publicKey);
    // An unsealed file is a write cut short (a crash): its retry wrote another.
    if (check.problem !== 'unsealed') return { name, check };
  }
  return undefined;
}

export interface WrittenCheckpoint extends CheckpointSummary {
  name: string;
  location: string;
  keyId: string;
  createdAt: string;
}

/**
 * Writes a signed checkpoint of every chain head, paging through the chains, after checking the
 * chains against the previous checkpoint: a chain that lost records or was rewritten since
 * refuses the new checkpoint (a permanent failure naming the chains), so the last good anchor
 * stays the latest and verification keeps finding the tampering.
 */
export async function writeCheckpoint(db: Database, settings: AuditCheckpointSettings, heartbeat: () => void = () => {}): Promise<WrittenCheckpoint> {
  await settings.sink.publishKey(settings.keyId, settings.publicKeyPem);
  const previous = await latestCheckpoint(settings);
  if (previous?.check.problem) {
    throw new PermanentError('audit_checkpoint_refused', `The latest checkpoint ${previous.name} does not verify (${previous.check.problem}): no checkpoint is written over it`);
  }
  if (previous) {
    for (let offset = previous.check.headsStart; offset < previous.check.headsEnd;) {
      const page = await readHeadsPage(settings.sink, previous.name, offset, previous.check.headsEnd);
      const findings = await compareHeads(db, page.heads);
      if (findings.length) {
        throw new PermanentError('audit_checkpoint_refused', `The chains no longer match checkpoint ${previous.name}: `
          + `${findings.slice(0, 5).map((f) => `${f.chain} ${f.reason}`).join('; ')}${findings.length > 5 ? '; …' : ''}. Run a verification for every finding.`);
      }
      offset = page.next;
      heartbeat();
    }
  }
  const createdAt = new Date();
  const id = randomUUID();
  const name = checkpointName(createdAt, id);
  const file = await settings.sink.create(name);
  const writer = new CheckpointWriter((text) => file.write(text), { format: CHECKPOINT_FORMAT, id, createdAt: createdAt.toISOString(), keyId: settings.keyId });
  await writer.begin();
  for (let after = ''; ;) {
    const page = await headsAfter(db, after, HEADS_PER_PAGE);
    for (const head of page) await writer.head(head);
    heartbeat();
    if (page.length < HEADS_PER_PAGE) break;
    after = page.at(-1)!.chain;
  }
  const summary = await writer.seal(settings.privateKey);
  await file.close();
  return { ...summary, name, location: settings.sink.location, keyId: settings.keyId, createdAt: createdAt.toISOString() };
}
