import nx from '@nx/eslint-plugin';

/**
 * Module boundaries: every project is tagged on two axes.
 *  - type: contracts (zod only) <- domain (pure logic, no framework) <- adapter (thin Nest/Kafka/HTTP
 *    wrappers) <- app. testing helpers may use anything but apps; e2e uses testing and contracts.
 *  - scope: a service's own code (control-plane, extraction, mapping, delivery, simulator) may use its
 *    own scope and shared; nothing imports another service.
 */
function boundaries({ tests }) {
  const t = (tags) => (tests ? [...tags, 'type:testing'] : tags);
  return {
    enforceBuildableLibDependency: false,
    allow: [],
    depConstraints: [
      { sourceTag: 'type:contracts', onlyDependOnLibsWithTags: t(['type:contracts']), allowedExternalImports: tests ? undefined : ['zod', 'zod/*'] },
      {
        sourceTag: 'type:domain',
        onlyDependOnLibsWithTags: t(['type:contracts', 'type:domain']),
        bannedExternalImports: tests ? [] : ['@nestjs/*', 'kafkajs', 'pg', 'ioredis', 'express'],
      },
      { sourceTag: 'type:adapter', onlyDependOnLibsWithTags: t(['type:contracts', 'type:domain', 'type:adapter']) },
      { sourceTag: 'type:app', onlyDependOnLibsWithTags: t(['type:contracts', 'type:domain', 'type:adapter']) },
      { sourceTag: 'type:testing', onlyDependOnLibsWithTags: ['type:contracts', 'type:domain', 'type:adapter', 'type:testing'] },
      { sourceTag: 'type:e2e', onlyDependOnLibsWithTags: ['type:contracts', 'type:domain', 'type:adapter', 'type:testing'] },
      { sourceTag: 'scope:shared', onlyDependOnLibsWithTags: ['scope:shared'] },
      { sourceTag: 'scope:control-plane', onlyDependOnLibsWithTags: ['scope:control-plane', 'scope:shared'] },
      { sourceTag: 'scope:extraction', onlyDependOnLibsWithTags: ['scope:extraction', 'scope:shared'] },
      { sourceTag: 'scope:mapping', onlyDependOnLibsWithTags: ['scope:mapping', 'scope:shared'] },
      { sourceTag: 'scope:delivery', onlyDependOnLibsWithTags: ['scope:delivery', 'scope:shared'] },
      { sourceTag: 'scope:simulator', onlyDependOnLibsWithTags: ['scope:simulator', 'scope:shared'] },
      // The web console runs in the browser: it shares only the contracts (zod schemas) with the services.
      { sourceTag: 'scope:console', onlyDependOnLibsWithTags: ['scope:shared', 'type:contracts'] },
      { sourceTag: 'scope:e2e', onlyDependOnLibsWithTags: ['scope:shared', 'scope:mapping', 'scope:extraction', 'scope:delivery'] },
    ],
  };
}

export default [
  ...nx.configs['flat/base'],
  ...nx.configs['flat/typescript'],
  { ignores: ['**/dist', '**/node_modules', '**/.cache', '**/.data', 'tools/kafka/**', '**/webpack.config.js', 'jest.preset.js', 'tools/jest/**'] },
  {
    files: ['**/*.ts', '**/*.tsx'],
    rules: {
      '@nx/enforce-module-boundaries': ['error', boundaries({ tests: false })],
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
    },
  },
  {
    // Tests may also use the testing helpers (real broker, real database, expectEventually).
    files: ['**/*.spec.ts', '**/*.spec.tsx', '**/*.int-spec.ts', '**/test/**/*.ts'],
    rules: { '@nx/enforce-module-boundaries': ['error', boundaries({ tests: true })] },
  },
];
