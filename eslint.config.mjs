// Type-aware lint rules that catch real defects: a promise nobody awaits or handles, a promise
// where a callback's result is ignored, a switch that misses a member of a union, `any` leaking
// into the product's code. Layout is prettier's (`npm run lint` runs both).
import js from '@eslint/js';
import tseslint from 'typescript-eslint';

export default tseslint.config(
  { ignores: ['dist/**', 'node_modules/**', 'coverage/**', 'test/interop/zitadel-revoke/**'] },
  {
    files: ['**/*.ts'],
    extends: [js.configs.recommended, ...tseslint.configs.recommendedTypeChecked],
    languageOptions: {
      parserOptions: { project: './test/tsconfig.json', tsconfigRootDir: import.meta.dirname },
    },
    rules: {
      '@typescript-eslint/no-floating-promises': 'error',
      '@typescript-eslint/no-misused-promises': 'error',
      '@typescript-eslint/switch-exhaustiveness-check': ['error', { considerDefaultExhaustiveForUnions: true }],
      // A `return promise` inside try/catch escapes the catch: always await there.
      '@typescript-eslint/return-await': ['error', 'in-try-catch'],
      // `(await query(…)) as Row[]` is how a row type is named here; redundant, not wrong.
      '@typescript-eslint/no-unnecessary-type-assertion': 'off',
      // Fastify's hooks and Nest's handlers are async by signature, with or without an await.
      '@typescript-eslint/require-await': 'off',
      // Validators refuse control characters on purpose.
      'no-control-regex': 'off',
      'no-empty': ['error', { allowEmptyCatch: true }],
      // `let x; const f = () => x; x = …` is the shape of a handler installed before its subject exists.
      'prefer-const': ['error', { ignoreReadBeforeAssign: true }],
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_', destructuredArrayIgnorePattern: '^_' }],
    },
  },
  {
    // Tests read JSON answers (`any` by nature) and hand methods to jest.
    files: ['test/**/*.ts', '**/*.spec.ts'],
    rules: {
      '@typescript-eslint/no-unsafe-assignment': 'off',
      '@typescript-eslint/no-unsafe-member-access': 'off',
      '@typescript-eslint/no-unsafe-argument': 'off',
      '@typescript-eslint/no-unsafe-return': 'off',
      '@typescript-eslint/no-unsafe-call': 'off',
      '@typescript-eslint/no-explicit-any': 'off',
      '@typescript-eslint/unbound-method': 'off',
      '@typescript-eslint/restrict-template-expressions': 'off',
    },
  },
  {
    files: ['**/*.mjs', '**/*.cjs'],
    extends: [js.configs.recommended],
    rules: { 'no-empty': ['error', { allowEmptyCatch: true }] },
    languageOptions: {
      globals: {
        ...Object.fromEntries(
          [
            'process',
            'console',
            'require',
            'module',
            '__dirname',
            '__filename',
            'Buffer',
            'setTimeout',
            'clearTimeout',
            'URL',
            'URLSearchParams',
            'fetch',
            'AbortSignal',
          ].map((name) => [name, 'readonly']),
        ),
      },
    },
  },
);
