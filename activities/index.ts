import type { Database } from '../db/client';
import type { Mailer } from '../services/mailer';
import { createEmailActivities } from './email';
import { createContactActivities } from './contacts';
import { createRecordingActivities } from './recording';

export interface ActivityDeps {
  db: Database;
  mailer: Mailer;
  emailFrom: string;
}

/** Every activity the journey workflow calls: thin adapters over services. */
export function createActivities(deps: ActivityDeps) {
  return {
    ...createEmailActivities(deps),
    ...createContactActivities(deps),
    ...createRecordingActivities(deps),
  };
}

export type JourneyActivities = ReturnType<typeof createActivities>;
