// Lint = TypeScript-aware recommended rules; formatting is Prettier's (npm run format), checked by npm run lint.
import js from '@eslint/js';
import tseslint from 'typescript-eslint';

// TEMPORARY (issue 19, part 4): files that still hold functions over the limit and are being
// reworked on other branches right now (the gateway's start, adapters, store, programs,
// simulators, dashboard). Each leaves this list when its branch merges and its functions are
// short; do not add to it.
const LONG_FUNCTIONS_TO_SPLIT = [
  'dashboard/src/main.ts',
  'dashboard/src/views/device.ts',
  'dashboard/src/views/drills.ts',
  'dashboard/src/views/estate/power.ts',
  'dashboard/src/views/handover.ts',
  'dashboard/src/views/health.ts',
  'dashboard/src/views/incidents.ts',
  'dashboard/src/views/reports.ts',
  'gateway/adapters/modbus/adapter.ts',
  'gateway/adapters/modbus/command.ts',
  'gateway/adapters/modbus/devices.ts',
  'gateway/adapters/mqtt/adapter.ts',
  'gateway/cli.ts',
  'gateway/demo.ts',
  'gateway/drill-cli.ts',
  'gateway/gateway.ts',
  'gateway/incidents/notify.ts',
  'gateway/profiles/codec.ts',
  'gateway/report-cli.ts',
  'gateway/store-setup.ts',
  'gateway/store/influxd.ts',
  'simulators/drill/controller.ts',
  'simulators/estate/estate.ts',
  'simulators/estate/models/lift.ts',
  'simulators/estate/models/pump.ts',
  'simulators/history/backfill.ts',
  'simulators/history/generate.ts',
  'simulators/history/plan.ts',
  'simulators/modbus/fleet.ts',
  'simulators/scenarios/schema.ts',
];

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
      'no-restricted-imports': [
        'error',
        { patterns: ['node:*', 'fs', 'net', 'http', '../gateway/*', '../../gateway/*'] },
      ],
    },
  },
  {
    // Short functions (issue 19): a function over 60 lines says why beside it
    // (`// eslint-disable-next-line max-lines-per-function -- <the reason>`), e.g. a route table
    // or a schema literal that splitting would not make clearer to a reader.
    files: ['**/*.ts'],
    ignores: ['**/*.test.ts', '**/*.testing.ts', 'test/**', ...LONG_FUNCTIONS_TO_SPLIT],
    rules: {
      'max-lines-per-function': ['error', { max: 60, skipBlankLines: true, skipComments: true, IIFEs: true }],
    },
  },
);
