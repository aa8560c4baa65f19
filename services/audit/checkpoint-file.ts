import { createHash, createPublicKey, sign, verify, type KeyObject } from 'node:crypto';

/**
 * An audit checkpoint as a file an auditor can check with openssl: JSON Lines, one line each for
 *   1. the header: format, id, time, the signing key's id;
 *   2. every chain head: chain, seq, hash and record count (in the database's chain order);
 *   3. the summary: chains, records and `headsDigest`, the SHA-256 of the head lines (2.);
 *   4. the seal: an Ed25519 signature over the SHA-256 of every byte above it (1.–3.).
 * Signing a digest of the body rather than the body lets a writer stream millions of heads
 * without holding them; `sed '$d' file | openssl dgst -sha256 -binary` gives the signed bytes.
 */
export const CHECKPOINT_FORMAT = 'nurture-audit-checkpoint/1';

export interface CheckpointHeader {
  format: typeof CHECKPOINT_FORMAT;
  id: string;
  createdAt: string;
  keyId: string;
}

/** A chain's end when the checkpoint was taken. */
export interface ChainHead {
  chain: string;
  seq: number;
  hash: string;
  records: number;
}

export interface CheckpointSummary {
  chains: number;
  records: number;
  headsDigest: string;
}

export interface CheckpointSeal {
  signature: string;
  keyId: string;
  algorithm: 'Ed25519(SHA-256(lines above))';
}

/** The published id of a public key: the first 16 hex digits of SHA-256 over its DER (SPKI). */
export function keyIdOf(key: KeyObject): string {
  const publicKey = key.type === 'private' ? createPublicKey(key) : key;
  return createHash('sha256').update(publicKey.export({ type: 'spki', format: 'der' })).digest('hex').slice(0, 16);
}

const line = (value: object) => `${JSON.stringify(value)}\n`;

/**
 * Writes a checkpoint's lines to `out` in order, hashing them as they go; `seal` signs and ends it.
 * Each head goes out as it comes, so memory stays flat however many chains there are.
 */
export class CheckpointWriter {
  private readonly body = createHash('sha256');
  private readonly heads = createHash('sha256');
  private chains = 0;
  private records = 0;

  constructor(private readonly out: (text: string) => Promise<void>, readonly header: CheckpointHeader) {}

  async begin(): Promise<void> {
    await this.emit(line(this.header));
  }

  async head(head: ChainHead): Promise<void> {
    const text = line({ chain: head.chain, seq: head.seq, hash: head.hash, records: head.records });
    this.heads.update(text);
    this.chains += 1;
    this.records += head.records;
    await this.emit(text);
  }

  /** Writes the summary and the seal; answers the summary. */
  async seal(privateKey: KeyObject): Promise<CheckpointSummary> {
    const summary: CheckpointSummary = { chains: this.chains, records: this.records, headsDigest: this.heads.digest('hex') };
    await this.emit(line(summary));
    const signature = sign(null, this.body.digest(), privateKey).toString('base64');
    const seal: CheckpointSeal = { signature, keyId: this.header.keyId, algorithm: 'Ed25519(SHA-256(lines above))' };
    await this.out(line(seal));
    return summary;
  }

  private async emit(text: string): Promise<void> {
    this.body.update(text);
    await this.out(text);
  }
}

/** What reading a whole checkpoint found: its parts and whether its seal holds. */
export interface CheckpointCheck {
  header?: CheckpointHeader;
  summary?: CheckpointSummary;
  seal?: CheckpointSeal;
  /** Bytes before the first head line and before the summary: where the heads lie. */
  headsStart: number;
  headsEnd: number;
  /** Why the checkpoint cannot be trusted; none when the signature, key and digests hold. */
  problem?: 'unsealed' | 'malformed' | 'unknown_key' | 'signature_invalid' | 'heads_digest_mismatch';
}

/**
 * Reads a checkpoint from its bytes (a stream, so any size) and checks its seal with the trusted
 * public key, its heads digest and its counts. Holds one line at a time.
 */
export async function checkCheckpoint(chunks: AsyncIterable<Uint8Array>, trusted: KeyObject): Promise<CheckpointCheck> {
  const lines: Array<{ text: string; start: number }> = [];
  const body = createHash('sha256');
  const heads = createHash('sha256');
  let header: CheckpointHeader | undefined;
  let pending = Buffer.alloc(0);
  let offset = 0;
  let chains = 0;
  let records = 0;
  let headsEnd = 0;
  let headsStart = 0;
  // The last two lines are held back until the end: they are the summary and the seal, which the
  // heads digest leaves out (both) and the body digest too (the seal).
  const settle = (entry: { text: string; start: number }) => {
    body.update(entry.text);
    if (!header) {
      header = JSON.parse(entry.text) as CheckpointHeader;
      headsStart = entry.start + Buffer.byteLength(entry.text);
      return;
    }
    const head = JSON.parse(entry.text) as ChainHead;
    heads.update(entry.text);
    chains += 1;
    records += head.records;
    headsEnd = entry.start + Buffer.byteLength(entry.text);
  };
  try {
    for await (const chunk of chunks) {
      pending = Buffer.concat([pending, chunk]);
      let newline: number;
      while ((newline = pending.indexOf(10)) >= 0) {
        const text = pending.subarray(0, newline + 1).toString('utf8');
        lines.push({ text, start: offset });
        offset += newline + 1;
        pending = pending.subarray(newline + 1);
        if (lines.length > 2) settle(lines.shift()!);
      }
    }
    if (pending.length > 0 || lines.length < 2) return { header, headsStart, headsEnd, problem: 'unsealed' };
    const [summaryLine, sealLine] = lines as [{ text: string; start: number }, { text: string; start: number }];
    if (!header) return { headsStart, headsEnd, problem: 'malformed' };
    body.update(summaryLine.text);
    if (chains === 0) headsEnd = headsStart;
    const summary = JSON.parse(summaryLine.text) as CheckpointSummary;
    const seal = JSON.parse(sealLine.text) as CheckpointSeal;
    if (header?.format !== CHECKPOINT_FORMAT || typeof seal.signature !== 'string') return { header, headsStart, headsEnd, problem: 'malformed' };
    const result = { header, summary, seal, headsStart, headsEnd };
    if (seal.keyId !== keyIdOf(trusted) || header.keyId !== seal.keyId) return { ...result, problem: 'unknown_key' };
    if (!verify(null, body.digest(), trusted, Buffer.from(seal.signature, 'base64'))) return { ...result, problem: 'signature_invalid' };
    if (summary.headsDigest !== heads.digest('hex') || summary.chains !== chains || summary.records !== records) return { ...result, problem: 'heads_digest_mismatch' };
    return result;
  } catch (err) {
    if (err instanceof SyntaxError) return { header, headsStart, headsEnd, problem: 'malformed' };
    throw err;
  }
}

/** The complete head lines in `bytes` (read from a head line's start) and the bytes they took. */
export function parseHeads(bytes: Buffer): { heads: ChainHead[]; used: number } {
  const heads: ChainHead[] = [];
  let used = 0;
  let newline: number;
  while ((newline = bytes.indexOf(10, used)) >= 0) {
    heads.push(JSON.parse(bytes.subarray(used, newline).toString('utf8')) as ChainHead);
    used = newline + 1;
  }
  return { heads, used };
}
