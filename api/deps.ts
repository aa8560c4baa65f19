import type { Client } from '@temporalio/client';
import type { DatabaseHandle } from '../db/client';

/** What the routes need; passed to each route plugin as its options. */
export interface ApiDeps {
  database: DatabaseHandle;
  temporal: Client;
  taskQueue: string;
  namespace: string;
  temporalUiUrl: string;
}

export interface RouteOptions {
  deps: ApiDeps;
}
