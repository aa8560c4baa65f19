/** What the global set-up started, handed to test files through the environment. */
export interface TestEnvironment {
  temporalAddress: string;
  /** The run's database as the runtime role, as the API and the workers connect. */
  databaseUrl: string;
  /** The same database as its owner (the migrations' role): DDL, triggers, the audit trail rewritten. */
  ownerDatabaseUrl: string;
  /** The same database as the server's superuser: for faults no role of a deployment may cause. */
  superuserDatabaseUrl: string;
  workflowBundlePath: string;
}

export function testEnvironment(): TestEnvironment {
  const { NURTURE_TEST_TEMPORAL_ADDRESS, NURTURE_TEST_DATABASE_URL, NURTURE_TEST_OWNER_DATABASE_URL, NURTURE_TEST_SUPERUSER_DATABASE_URL, NURTURE_TEST_WORKFLOW_BUNDLE } = process.env;
  if (!NURTURE_TEST_TEMPORAL_ADDRESS || !NURTURE_TEST_DATABASE_URL || !NURTURE_TEST_OWNER_DATABASE_URL || !NURTURE_TEST_SUPERUSER_DATABASE_URL || !NURTURE_TEST_WORKFLOW_BUNDLE) {
    throw new Error('The jest global set-up did not run (run tests with `npm test`)');
  }
  return {
    temporalAddress: NURTURE_TEST_TEMPORAL_ADDRESS,
    databaseUrl: NURTURE_TEST_DATABASE_URL,
    ownerDatabaseUrl: NURTURE_TEST_OWNER_DATABASE_URL,
    superuserDatabaseUrl: NURTURE_TEST_SUPERUSER_DATABASE_URL,
    workflowBundlePath: NURTURE_TEST_WORKFLOW_BUNDLE,
  };
}
