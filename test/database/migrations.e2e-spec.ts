import pino from 'pino';
import { DataSource } from 'typeorm';
import { loadConfig } from '../../src/config/config';
import { dataSourceOptions } from '../../src/database/data-source-options';
import { startEmbeddedPostgres, type EmbeddedPostgres } from '../../src/database/embedded';
import { migrations } from '../../migrations';
import { freshDatabase } from '../support/gateway';

/** Every migration goes up and down on a fresh database, and up again after that. */
describe('migrations', () => {
  let dataSource: DataSource;
  let embedded: EmbeddedPostgres | undefined;
  let drop: (() => Promise<void>) | undefined;

  beforeAll(async () => {
    const fresh = await freshDatabase();
    embedded = fresh ? undefined : await startEmbeddedPostgres(undefined);
    drop = fresh?.drop;
    dataSource = new DataSource(dataSourceOptions(fresh?.url ?? embedded!.url, loadConfig({}), 1, pino({ level: 'silent' })));
    await dataSource.initialize();
  });

  afterAll(async () => {
    await dataSource.destroy();
    await embedded?.stop();
    await drop?.();
  });

  async function tables(): Promise<string[]> {
    const rows = (await dataSource.query(
      `SELECT table_name FROM information_schema.tables WHERE table_schema = 'public' AND table_name <> 'migrations' ORDER BY 1`,
    )) as Array<{ table_name: string }>;
    return rows.map((row) => row.table_name);
  }

  async function indexes(): Promise<string[]> {
    const rows = (await dataSource.query(`SELECT indexname FROM pg_indexes WHERE schemaname = 'public' ORDER BY 1`)) as Array<{ indexname: string }>;
    return rows.map((row) => row.indexname);
  }

  it('applies every migration on an empty database', async () => {
    const applied = await dataSource.runMigrations({ transaction: 'each' });
    expect(applied.map((m) => m.name)).toEqual(migrations.map((m) => new m().name));
    expect(await tables()).toEqual([
      'client_assertion_jtis',
      'clients',
      'consents',
      'revocation_events',
      'revocation_rules',
      'signing_keys',
      'ssf_set_bundles',
      'ssf_sets',
      'ssf_streams',
      'tenants',
      'tokens',
      'upstream_outbox',
    ]);
    expect(await indexes()).toEqual(
      expect.arrayContaining([
        'tokens_pkey',
        'tokens_parent_idx',
        'tokens_consent_idx',
        'tokens_subject_idx',
        'tokens_client_idx',
        'clients_pkey',
        'revocation_events_interaction_idx',
        'revocation_events_client_idx',
        'upstream_outbox_due_idx',
        'revocation_rules_subject_idx',
        'revocation_rules_client_idx',
        'revocation_rules_consent_idx',
        'revocation_rules_expiry_idx',
      ]),
    );
    expect(await dataSource.query(`SELECT name FROM tenants`)).toEqual([{ name: 'default' }]);
  });

  it('reverts every migration, leaving no table behind, and applies them again', async () => {
    for (let i = 0; i < migrations.length; i++) await dataSource.undoLastMigration({ transaction: 'each' });
    expect(await tables()).toEqual([]);
    expect(await dataSource.runMigrations({ transaction: 'each' })).toHaveLength(migrations.length);
    expect(await tables()).toHaveLength(12);
  });

  it('uses the revocation indexes for the hot path and bulk lookups', async () => {
    // Realistic statistics: planner choices on an empty table say nothing.
    await dataSource.query(`
      INSERT INTO tokens (tenant, token_hash, token_type, client_id, grant_id, consent_id, subject, parent_hash, expires_at)
      SELECT 'default', sha256(i::text::bytea), 'access_token', 'client-' || (i % 50), 'g', 'consent-' || i, 'psu-' || i,
             sha256(('parent' || i)::bytea), now()
      FROM generate_series(1, 20000) AS i`);
    await dataSource.query('ANALYZE tokens');
    const plan = async (sql: string) => JSON.stringify(await dataSource.query(`EXPLAIN ${sql}`));
    expect(await plan(`SELECT 1 FROM tokens WHERE tenant = 'default' AND token_hash = '\\x00'`)).toContain('tokens_pkey');
    expect(await plan(`SELECT 1 FROM tokens WHERE tenant = 'default' AND parent_hash = '\\x00'`)).toContain('tokens_parent_idx');
    expect(await plan(`SELECT 1 FROM tokens WHERE tenant = 'default' AND consent_id = 'c'`)).toContain('tokens_consent_idx');
    expect(await plan(`SELECT 1 FROM tokens WHERE tenant = 'default' AND subject = 's'`)).toContain('tokens_subject_idx');
  });
});
