import { createReadStream } from 'node:fs';
import { mkdir, open, readdir, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';

/**
 * Where audit checkpoints go: write-once storage outside the database. A sink creates each
 * checkpoint under a new name and refuses to overwrite one; nothing here deletes. The directory
 * sink is the default; s3Sink (./s3-sink.ts) writes to a bucket with object lock.
 */
export interface CheckpointSink {
  /** Where the checkpoints are, for reports and logs: a directory or s3://bucket/prefix. */
  readonly location: string;
  /** A new checkpoint named `name`; refuses with CheckpointExists when the name is taken. */
  create(name: string): Promise<SinkFile>;
  /** Every checkpoint's name, oldest first (names begin with their time). */
  names(): Promise<string[]>;
  /** A checkpoint's bytes, streamed. */
  read(name: string): AsyncIterable<Uint8Array>;
  /** Up to `length` bytes of a checkpoint from byte `start`. */
  readRange(name: string, start: number, length: number): Promise<Buffer>;
  /** Publishes a public key as `keys/<keyId>.pem`, once; an identical copy there already is fine. */
  publishKey(keyId: string, pem: string): Promise<void>;
}

export interface SinkFile {
  write(text: string): Promise<void>;
  /** Makes the checkpoint durable and complete. */
  close(): Promise<void>;
}

/** A sink refused to overwrite: the name (or key) was written before. */
export class CheckpointExists extends Error {
  constructor(readonly location: string) {
    super(`${location} exists: checkpoints are written once and never overwritten`);
    this.name = 'CheckpointExists';
  }
}

/** Checkpoint names: `checkpoint-<UTC time>-<id>.jsonl`, so names sort by time. */
export const CHECKPOINT_NAME = /^checkpoint-[0-9TZ.-]+-[0-9a-f-]+\.jsonl$/;

export function checkpointName(createdAt: Date, id: string): string {
  return `checkpoint-${createdAt.toISOString().replace(/:/g, '')}-${id}.jsonl`;
}

function assertName(name: string): void {
  if (!/^[\w.-]+$/.test(name)) throw new Error(`Not a checkpoint name: ${name}`);
}

const errorCode = (err: unknown) => (err as NodeJS.ErrnoException).code;

/** Bytes written to a checkpoint file per system call: heads are small, so they are gathered. */
const WRITE_BATCH = 64 * 1024;

/**
 * A local directory, append-only by use: each checkpoint is a new file created with O_EXCL (`wx`)
 * and mode 0444, so an existing name is refused rather than overwritten, and the process never
 * deletes or rewrites one. Put it on storage the database's administrators cannot write (another
 * host, a WORM or `chattr +a` volume, a synced bucket) for the anchor to mean something.
 */
export function directorySink(dir: string): CheckpointSink {
  const root = path.resolve(dir);
  const file = (name: string) => { assertName(name); return path.join(root, name); };
  return {
    location: root,
    async create(name) {
      await mkdir(root, { recursive: true });
      const handle = await open(file(name), 'wx', 0o444).catch((err: unknown) => {
        throw errorCode(err) === 'EEXIST' ? new CheckpointExists(file(name)) : err;
      });
      let pending: string[] = [];
      let size = 0;
      const flush = async () => {
        if (!pending.length) return;
        const text = pending.join('');
        pending = [];
        size = 0;
        await handle.write(text);
      };
      return {
        async write(text) {
          pending.push(text);
          size += text.length;
          if (size >= WRITE_BATCH) await flush();
        },
        async close() {
          try {
            await flush();
            await handle.sync();
          } finally {
            await handle.close();
          }
        },
      };
    },
    async names() {
      const entries = await readdir(root).catch((err: unknown) => { if (errorCode(err) === 'ENOENT') return []; throw err; });
      return entries.filter((n) => CHECKPOINT_NAME.test(n)).sort();
    },
    read: (name) => createReadStream(file(name)),
    async readRange(name, start, length) {
      const handle = await open(file(name), 'r');
      try {
        const buffer = Buffer.alloc(length);
        const { bytesRead } = await handle.read(buffer, 0, length, start);
        return buffer.subarray(0, bytesRead);
      } finally {
        await handle.close();
      }
    },
    async publishKey(keyId, pem) {
      assertName(keyId);
      const target = path.join(root, 'keys', `${keyId}.pem`);
      await mkdir(path.dirname(target), { recursive: true });
      try {
        await writeFile(target, pem, { flag: 'wx', mode: 0o444 });
      } catch (err) {
        if (errorCode(err) !== 'EEXIST') throw err;
        if ((await readFile(target, 'utf8')) !== pem) throw new CheckpointExists(target);
      }
    },
  };
}
