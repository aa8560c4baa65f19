import type { Client } from '@temporalio/client';
import { NativeConnection, Worker, type WorkerOptions } from '@temporalio/worker';
import { createActivities } from '../activities';
import type { Database } from '../db/client';
import type { Mailer } from '../services/mailer';

export interface JourneyWorkerOptions {
  connection: NativeConnection;
  namespace: string;
  taskQueue: string;
  db: Database;
  mailer: Mailer;
  emailFrom: string;
  /** A client for activities that start enrolments. */
  client: Client;
  /** A pre-built workflow bundle (tests build it once); otherwise workflows/ is bundled at start. */
  workflowBundle?: { codePath: string };
}

/** The worker that runs journey workflows and their activities on one task queue. */
export async function createJourneyWorker(options: JourneyWorkerOptions): Promise<Worker> {
  const workflows: Pick<WorkerOptions, 'workflowBundle' | 'workflowsPath'> = options.workflowBundle
    ? { workflowBundle: options.workflowBundle }
    : { workflowsPath: require.resolve('../workflows') };
  return Worker.create({
    connection: options.connection,
    namespace: options.namespace,
    taskQueue: options.taskQueue,
    ...workflows,
    activities: createActivities({
      db: options.db, mailer: options.mailer, emailFrom: options.emailFrom, temporal: options.client, taskQueue: options.taskQueue,
    }),
  });
}

export { NativeConnection };
