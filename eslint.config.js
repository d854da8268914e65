// Lint = TypeScript-aware recommended rules; formatting is Prettier's (npm run format), checked by npm run lint.
import js from '@eslint/js';
import tseslint from 'typescript-eslint';

// Which folder may import which (../shared/ARCHITECTURE.md, "Top-level folders"): the programs
// in app/ (and the benchmarks) wire everything; below them imports go downward only. The
// simulators reach the gateway only through its published seams, gateway/ports/ (interfaces,
// the clock, the topic scheme, the site file, data files) and gateway/profiles/ (the register
// maps and payloads they must speak); the broker only through gateway/ports/. Tests may import
// anything: they check one folder against another.
const TESTS = ['**/*.test.ts', '**/*.testing.ts'];
const folderImports = (regexes, message) => ({
  '@typescript-eslint/no-restricted-imports': ['error', { patterns: regexes.map((regex) => ({ regex, message })) }],
});

const ONE_CLOCK =
  'Take the time from an injected Clock and wait on injected Timers (gateway/ports/clock.ts); in tests, a ManualClock or test/support/wait.ts.';

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
        {
          selector: "CallExpression[callee.object.name='Date'][callee.property.name='now']",
          message: 'rules/ is pure: take the time as an argument.',
        },
        {
          selector: "NewExpression[callee.name='Date'][arguments.length=0]",
          message: 'rules/ is pure: take the time as an argument.',
        },
        { selector: "CallExpression[callee.name='setTimeout']", message: 'rules/ is pure: no timers.' },
        { selector: "CallExpression[callee.name='setInterval']", message: 'rules/ is pure: no timers.' },
      ],
      '@typescript-eslint/no-restricted-imports': [
        'error',
        {
          patterns: [
            { group: ['node:*', 'fs', 'net', 'http'], message: 'rules/ is pure: no I/O.' },
            {
              group: ['**/gateway/**', '**/broker/**', '**/simulators/**', '**/app/**', '**/dashboard/**'],
              message: 'rules/ is the bottom floor: it imports nothing of ours.',
            },
          ],
        },
      ],
    },
  },
  {
    files: ['gateway/**/*.ts'],
    ignores: TESTS,
    rules: folderImports(
      ['(^|/)(simulators|app|dashboard)/'],
      'gateway/ imports rules/ and broker/ only: the programs in app/ wire it to the simulators (give it a port in gateway/ports/).',
    ),
  },
  {
    files: ['broker/**/*.ts'],
    ignores: TESTS,
    rules: folderImports(
      ['(^|/)gateway/(?!ports/)', '(^|/)(simulators|app|dashboard)/'],
      'broker/ imports rules/ and the shared seams in gateway/ports/ only.',
    ),
  },
  {
    files: ['simulators/**/*.ts'],
    ignores: TESTS,
    rules: folderImports(
      ['(^|/)gateway/(?!ports/|profiles/)', '(^|/)(broker|app|dashboard)/'],
      'simulators/ import rules/, gateway/ports/ and gateway/profiles/ only: the programs in app/ wire them to the gateway.',
    ),
  },
  {
    files: ['dashboard/src/**/*.ts'],
    rules: {
      // The page runs in the browser and talks to the HTTP API only: it takes the server's
      // shapes as types, and runs only the two pure, import-free time helpers of rules/ (the
      // site's wall clock and calendar days, one definition for the server and the page).
      '@typescript-eslint/no-restricted-imports': [
        'error',
        {
          patterns: [
            {
              regex:
                '(^|/)(gateway|broker|simulators|app)/|(^|/)rules/(?!local-time\\.js$|reports/calendar\\.js$)|^node:',
              allowTypeImports: true,
              message: "The dashboard talks only to the HTTP API: type imports of the server's shapes only.",
            },
          ],
        },
      ],
    },
  },
  {
    // One clock (issue 19): what reads the time or waits takes a Clock and Timers
    // (gateway/ports/clock.ts), so tests run on a ManualClock and never sleep. The real clock
    // and timers live in gateway/ports/clock.ts, the virtual ones in manual-clock.ts; tests
    // that wait on something real use test/support/wait.ts. bench/ and scripts/ are not
    // listed: they measure real time.
    files: [
      'app/**/*.ts',
      'gateway/**/*.ts',
      'broker/**/*.ts',
      'simulators/**/*.ts',
      'dashboard/src/**/*.ts',
      'test/**/*.ts',
      '**/*.test.ts',
    ],
    ignores: ['gateway/ports/clock.ts', 'gateway/ports/manual-clock.ts', 'dashboard/src/clock.ts'],
    rules: {
      'no-restricted-syntax': [
        'error',
        { selector: "MemberExpression[object.name='Date'][property.name='now']", message: ONE_CLOCK },
        { selector: "NewExpression[callee.name='Date'][arguments.length=0]", message: ONE_CLOCK },
        { selector: "CallExpression[callee.name='setTimeout']", message: ONE_CLOCK },
        { selector: "CallExpression[callee.name='setInterval']", message: ONE_CLOCK },
      ],
    },
  },
  {
    // Short functions (issue 19): a function over 60 lines says why beside it
    // (`// eslint-disable-next-line max-lines-per-function -- <the reason>`), e.g. a route table
    // or a schema literal that splitting would not make clearer to a reader.
    files: ['**/*.ts'],
    ignores: ['**/*.test.ts', '**/*.testing.ts', 'test/**'],
    rules: {
      'max-lines-per-function': ['error', { max: 60, skipBlankLines: true, skipComments: true, IIFEs: true }],
    },
  },
);
