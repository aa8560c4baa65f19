/** What the global set-up started, handed to test files through the environment. */
export interface TestEnvironment {
  temporalAddress: string;
  databaseUrl: string;
  workflowBundlePath: string;
}

export function testEnvironment(): TestEnvironment {
  const { NURTURE_TEST_TEMPORAL_ADDRESS, NURTURE_TEST_DATABASE_URL, NURTURE_TEST_WORKFLOW_BUNDLE } = process.env;
  if (!NURTURE_TEST_TEMPORAL_ADDRESS || !NURTURE_TEST_DATABASE_URL || !NURTURE_TEST_WORKFLOW_BUNDLE) {
    throw new Error('The jest global set-up did not run (run tests with `npm test`)');
  }
  return {
    temporalAddress: NURTURE_TEST_TEMPORAL_ADDRESS,
    databaseUrl: NURTURE_TEST_DATABASE_URL,
    workflowBundlePath: NURTURE_TEST_WORKFLOW_BUNDLE,
  };
}
