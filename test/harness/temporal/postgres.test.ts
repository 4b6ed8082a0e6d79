/** The production-topology harness's PostgreSQL helpers (harness/temporal/postgres.ts). */
import { dropDatabases } from '../../../harness/temporal/postgres';

test('issue 17: a database that cannot be dropped fails the drop with its name and why, after trying every one', async () => {
  // Nothing listens on port 9: psql is refused for each database.
  const nowhere = {
    host: '127.0.0.1',
    port: 9,
    user: 'temporal',
    password: 'unused',
    source: 'local',
  } as const;
  const drop = dropDatabases(nowhere, ['jcn_left_a', 'jcn_left_b']);
  await expect(drop).rejects.toThrow(
    /could not drop 2 database\(s\) on 127\.0\.0\.1:9: jcn_left_a: .+; jcn_left_b: .+/s,
  );
});
