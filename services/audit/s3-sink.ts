import type { Readable } from 'node:stream';
import { GetObjectCommand, ListObjectsV2Command, PutObjectCommand, S3Client, type PutObjectCommandInput } from '@aws-sdk/client-s3';
import { CHECKPOINT_NAME, CheckpointExists, type CheckpointSink } from './checkpoint-sink';

export interface S3SinkOptions {
  bucket: string;
  /** Key prefix of the checkpoints (e.g. `audit-checkpoints/`). */
  prefix: string;
  region: string;
  /** An S3-compatible service's URL (path-style requests); AWS's regional endpoint when absent. */
  endpoint?: string;
  /** Object lock on every object: GOVERNANCE or COMPLIANCE for `days` (the bucket must have object lock on). */
  objectLock?: { mode: 'GOVERNANCE' | 'COMPLIANCE'; days: number };
  /** Static credentials (tests); else the AWS SDK's chain: AWS_ACCESS_KEY_ID…, profiles, instance and task roles. */
  credentials?: { accessKeyId: string; secretAccessKey: string };
}

const status = (err: unknown) => (err as { $metadata?: { httpStatusCode?: number } }).$metadata?.httpStatusCode;

/**
 * An S3 (or S3-compatible) bucket as a write-once sink: every PUT carries `If-None-Match: *`, so
 * the store refuses a key that exists (412) instead of replacing it, and, when configured, an
 * object lock retention that keeps even the bucket's owner from deleting it in time. A
 * checkpoint is gathered in memory and sent in one PUT when it is closed (about 100 bytes a chain).
 */
export function s3Sink(options: S3SinkOptions): CheckpointSink {
  const client = new S3Client({
    region: options.region,
    ...(options.endpoint ? { endpoint: options.endpoint, forcePathStyle: true } : {}),
    ...(options.credentials ? { credentials: options.credentials } : {}),
  });
  const key = (name: string) => `${options.prefix}${name}`;
  const put = async (name: string, body: Buffer, contentType: string) => {
    const lock: Partial<PutObjectCommandInput> = options.objectLock
      ? { ObjectLockMode: options.objectLock.mode, ObjectLockRetainUntilDate: new Date(Date.now() + options.objectLock.days * 86_400_000) }
      : {};
    try {
      await client.send(new PutObjectCommand({ Bucket: options.bucket, Key: key(name), Body: body, ContentType: contentType, IfNoneMatch: '*', ...lock }));
    } catch (err) {
      // 412: the key exists; 409: a concurrent conditional write to it won.
      if (status(err) === 412 || status(err) === 409) throw new CheckpointExists(`s3://${options.bucket}/${key(name)}`);
      throw err;
    }
  };
  const get = async (name: string, range?: string) => {
    const answer = await client.send(new GetObjectCommand({ Bucket: options.bucket, Key: key(name), Range: range }));
    return answer.Body as Readable & { transformToByteArray(): Promise<Uint8Array> };
  };
  return {
    location: `s3://${options.bucket}/${options.prefix}`,
    async create(name) {
      const parts: Buffer[] = [];
      return {
        write: async (text) => { parts.push(Buffer.from(text, 'utf8')); },
        close: () => put(name, Buffer.concat(parts), 'application/x-ndjson'),
      };
    },
    async names() {
      const names: string[] = [];
      let token: string | undefined;
      do {
        const page = await client.send(new ListObjectsV2Command({ Bucket: options.bucket, Prefix: key('checkpoint-'), ContinuationToken: token }));
        for (const object of page.Contents ?? []) {
          const name = object.Key?.slice(options.prefix.length);
          if (name && CHECKPOINT_NAME.test(name)) names.push(name);
        }
        token = page.IsTruncated ? page.NextContinuationToken : undefined;
      } while (token);
      return names.sort();
    },
    read(name) {
      return { async *[Symbol.asyncIterator]() { yield* (await get(name)) as AsyncIterable<Uint8Array>; } };
    },
    async readRange(name, start, length) {
      return Buffer.from(await (await get(name, `bytes=${start}-${start + length - 1}`)).transformToByteArray());
    },
    async publishKey(keyId, pem) {
      try {
        await put(`keys/${keyId}.pem`, Buffer.from(pem, 'utf8'), 'application/x-pem-file');
      } catch (err) {
        if (!(err instanceof CheckpointExists)) throw err;
        if (Buffer.from(await (await get(`keys/${keyId}.pem`)).transformToByteArray()).toString('utf8') !== pem) throw err;
      }
    },
  };
}
