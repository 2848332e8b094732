import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadConfig } from '../../src/config/config';
import { startGateway } from '../../src/gateway';
import { ADMIN_TOKEN } from '../support/gateway';

/** `npm start` with no DATABASE_URL: PGlite in DATA_DIR, migrated at start, data kept across restarts. */
describe('embedded database in DATA_DIR', () => {
  const dataDir = mkdtempSync(join(tmpdir(), 'revgw-data-'));
  const config = loadConfig({ PORT: '0', MANAGEMENT_PORT: '0', HOST: '127.0.0.1', DATA_DIR: dataDir, ADMIN_API_TOKEN: ADMIN_TOKEN, LOG_LEVEL: 'silent' });
  const headers = { authorization: `Bearer ${ADMIN_TOKEN}`, 'content-type': 'application/json' };

  afterAll(() => rmSync(dataDir, { recursive: true, force: true }));

  it('keeps clients across a restart and serves revocations on the same database', async () => {
    const first = await startGateway(config);
    try {
      expect(first.database.embedded).toBe(true);
      const put = await fetch(`${first.managementUrl}/admin/clients/kept`, { method: 'PUT', headers, body: JSON.stringify({ auth_method: 'none' }) });
      expect(put.status).toBe(201);
    } finally {
      await first.close();
    }
    const second = await startGateway(config);
    try {
      const again = await fetch(`${second.managementUrl}/admin/clients/kept`, { method: 'PUT', headers, body: JSON.stringify({ auth_method: 'none' }) });
      expect(again.status).toBe(200); // replaced, not created: the first run's row survived
      const revoke = await fetch(`${second.publicUrl}/token/revoke`, {
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
        body: 'token=abc&client_id=kept',
      });
      expect(revoke.status).toBe(200);
    } finally {
      await second.close();
    }
  });
});
