import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * docs/api.md §11.1: a client is a TPP (revokes) or a resource server (introspects), never both.
 * Every client registered before this is a TPP.
 */
export class ClientRole1795390000000 implements MigrationInterface {
  name = 'ClientRole1795390000000';

  async up(db: QueryRunner): Promise<void> {
    await db.query(`
      ALTER TABLE clients ADD COLUMN role text NOT NULL DEFAULT 'tpp'
        CONSTRAINT clients_role_check CHECK (role IN ('tpp', 'resource_server'))`);
  }

  async down(db: QueryRunner): Promise<void> {
    await db.query(`ALTER TABLE clients DROP COLUMN role`);
  }
}
