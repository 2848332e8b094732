import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { renderConfigurationDoc } from './write-configuration-doc';
import { RULES } from './config-rules';
import { FEATURES } from './variable-kinds';
import { NAMES, VARIABLES } from './variables';

const CHECKED_IN = resolve(__dirname, '../../docs/configuration.md');

describe('docs/configuration.md', () => {
  it('is what src/config/variables.ts generates (run `npm run docs:config` when this fails)', () => {
    expect(readFileSync(CHECKED_IN, 'utf8')).toBe(renderConfigurationDoc());
  });

  it('lists every variable once, under a declared feature, with a description', () => {
    const doc = renderConfigurationDoc();
    for (const name of NAMES) {
      expect(VARIABLES[name].feature in FEATURES).toBe(true);
      expect(VARIABLES[name].description.length).toBeGreaterThan(0);
      expect(doc.split('\n').filter((line) => line.startsWith(`| \`${name}\` |`))).toHaveLength(1);
    }
    for (const rule of RULES) expect(doc).toContain(rule.says);
  });

  it('names a declared variable as the switch of a switched feature', () => {
    for (const info of Object.values(FEATURES)) {
      if ('switchedOnBy' in info) expect(NAMES).toContain(info.switchedOnBy);
    }
  });
});
