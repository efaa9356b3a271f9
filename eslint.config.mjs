import nx from '@nx/eslint-plugin';

/**
 * Module boundaries: every project is tagged on two axes.
 *  - type: contracts (zod only) <- domain (pure logic, no framework) <- adapter (thin Nest/Kafka/HTTP
 *    wrappers) <- app. testing helpers may use anything but apps; e2e uses testing and contracts.
 *  - scope: a service's own code (control-plane, extraction, mapping, delivery, simulator) may use its
 *    own scope and shared; nothing imports another service.
 */
export default [
  ...nx.configs['flat/base'],
  ...nx.configs['flat/typescript'],
  { ignores: ['**/dist', '**/node_modules', '**/.cache', '**/.data', 'tools/kafka/**', '**/webpack.config.js', 'jest.preset.js', 'tools/jest/**'] },
  {
    files: ['**/*.ts'],
    rules: {
      '@nx/enforce-module-boundaries': [
        'error',
        {
          enforceBuildableLibDependency: false,
          allow: [],
          depConstraints: [
            { sourceTag: 'type:contracts', onlyDependOnLibsWithTags: ['type:contracts'], allowedExternalImports: ['zod', 'zod/*'] },
            {
              sourceTag: 'type:domain',
              onlyDependOnLibsWithTags: ['type:contracts', 'type:domain'],
              bannedExternalImports: ['@nestjs/*', 'kafkajs', 'pg', 'ioredis', 'express'],
            },
            { sourceTag: 'type:adapter', onlyDependOnLibsWithTags: ['type:contracts', 'type:domain', 'type:adapter'] },
            { sourceTag: 'type:app', onlyDependOnLibsWithTags: ['type:contracts', 'type:domain', 'type:adapter'] },
            { sourceTag: 'type:testing', onlyDependOnLibsWithTags: ['type:contracts', 'type:domain', 'type:adapter', 'type:testing'] },
            { sourceTag: 'type:e2e', onlyDependOnLibsWithTags: ['type:contracts', 'type:domain', 'type:adapter', 'type:testing'] },
            { sourceTag: 'scope:shared', onlyDependOnLibsWithTags: ['scope:shared'] },
            { sourceTag: 'scope:control-plane', onlyDependOnLibsWithTags: ['scope:control-plane', 'scope:shared'] },
            { sourceTag: 'scope:extraction', onlyDependOnLibsWithTags: ['scope:extraction', 'scope:shared'] },
            { sourceTag: 'scope:mapping', onlyDependOnLibsWithTags: ['scope:mapping', 'scope:shared'] },
            { sourceTag: 'scope:delivery', onlyDependOnLibsWithTags: ['scope:delivery', 'scope:shared'] },
            { sourceTag: 'scope:simulator', onlyDependOnLibsWithTags: ['scope:simulator', 'scope:shared'] },
            { sourceTag: 'scope:e2e', onlyDependOnLibsWithTags: ['scope:shared', 'scope:mapping', 'scope:extraction', 'scope:delivery'] },
          ],
        },
      ],
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
    },
  },
];
