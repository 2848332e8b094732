// NestJS 12, jose and PGlite ship ESM only; Jest on Node 20 cannot load ESM from CommonJS tests,
// so swc transforms those packages to CommonJS along with our TypeScript (see ../shared/STACK.md).
const esmOnly = ['@nestjs', 'jose', 'cookie', '@electric-sql', 'uuid', 'openid-client', 'oauth4webapi'];

/** @type {import('jest').Config} */
module.exports = {
  testEnvironment: 'node',
  roots: ['<rootDir>/src', '<rootDir>/test'],
  testRegex: '\\.(spec|e2e-spec)\\.ts$',
  moduleFileExtensions: ['ts', 'js', 'mjs', 'cjs', 'json'],
  transform: {
    '^.+\\.(t|j|mj|cj)s$': [
      '@swc/jest',
      {
        jsc: {
          parser: { syntax: 'typescript', decorators: true },
          transform: { legacyDecorator: true, decoratorMetadata: true },
          target: 'es2023',
        },
        module: { type: 'commonjs' },
      },
    ],
  },
  transformIgnorePatterns: [`node_modules/(?!(.*/)?(${esmOnly.join('|')})/)`],
  testTimeout: 30000,
};
