/** `npm run openapi`: writes docs/openapi.json for the default configuration (every profile). */
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { loadConfig } from '../config/config';
import { openApiDocument } from './openapi';

export const CHECKED_IN = resolve(__dirname, '../../../docs/openapi.json');

export function renderCheckedIn(): string {
  return `${JSON.stringify(openApiDocument(loadConfig({})), null, 2)}\n`;
}

if (require.main === module) {
  mkdirSync(dirname(CHECKED_IN), { recursive: true });
  writeFileSync(CHECKED_IN, renderCheckedIn());
  process.stdout.write(`wrote ${CHECKED_IN}\n`);
}
