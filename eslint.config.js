// Lint = TypeScript-aware recommended rules; formatting is Prettier's (npm run format), checked by npm run lint.
import js from '@eslint/js';
import tseslint from 'typescript-eslint';

export default tseslint.config(
  { ignores: ['dist/**', 'node_modules/**', 'var/**', 'coverage/**'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    rules: {
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
    },
  },
  {
    files: ['scripts/**/*.mjs'],
    languageOptions: { globals: { process: 'readonly', console: 'readonly', URL: 'readonly' } },
  },
  {
    // rules/ is pure: time is injected, never read from the environment. Tests and their
    // support (*.testing.ts, never built) load data files.
    files: ['rules/**/*.ts'],
    ignores: ['rules/**/*.test.ts', 'rules/**/*.testing.ts'],
    rules: {
      'no-restricted-syntax': [
        'error',
        { selector: "CallExpression[callee.object.name='Date'][callee.property.name='now']", message: 'rules/ is pure: take the time as an argument.' },
        { selector: "NewExpression[callee.name='Date'][arguments.length=0]", message: 'rules/ is pure: take the time as an argument.' },
        { selector: "CallExpression[callee.name='setTimeout']", message: 'rules/ is pure: no timers.' },
        { selector: "CallExpression[callee.name='setInterval']", message: 'rules/ is pure: no timers.' },
      ],
      'no-restricted-imports': ['error', { patterns: ['node:*', 'fs', 'net', 'http', '../gateway/*', '../../gateway/*'] }],
    },
  },
);
