import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { brokerAnswers, startPrivateBroker, type TestKafkaConnection } from '@export/testing';

/** The users `kafka.sh` creates on a SASL broker (tools/kafka/kafka.sh SASL_USERS). */
export type SaslUser = 'admin' | 'connection-management' | 'segment-extraction' | 'field-mapping' | 'autopilot-delivery' | 'upstream';

export interface SaslBroker {
  brokers: string[];
  /** The development CA that signed the broker's certificate (SASL_SSL only). */
  caPath?: string;
  /** How a test client connects as `user` (SCRAM-SHA-512); `password` overrides the real one. */
  connection(user: SaslUser, password?: string): TestKafkaConnection;
  /** The environment a service needs to connect as `user`. */
  serviceEnv(user: SaslUser): Record<string, string>;
  password(user: SaslUser): string;
  /** Stops the broker and removes its data (credentials included). */
  destroy(): void;
}

/**
 * A SASL_SCRAM broker of this test file alone (libs/testing startPrivateBroker with `sasl` or `sasl_ssl`):
 * users and random passwords made by kafka.sh at format time, the ACLs of tools/kafka/acls.txt, and with
 * `sasl_ssl` TLS with a development CA. The shared PLAINTEXT broker is not touched.
 */
export async function startSaslBroker(security: 'sasl' | 'sasl_ssl' = 'sasl_ssl'): Promise<SaslBroker> {
  const broker = await startPrivateBroker(security);
  const { brokers, dataDir, destroy } = broker;
  const passwords = new Map(
    readFileSync(join(dataDir, 'credentials.properties'), 'utf8')
      .split('\n')
      .filter((line) => line && !line.startsWith('#'))
      .map((line) => [line.slice(0, line.indexOf('=')), line.slice(line.indexOf('=') + 1)] as const),
  );
  const password = (user: SaslUser) => {
    const value = passwords.get(user);
    if (!value) throw new Error(`kafka.sh made no password for ${user}`);
    return value;
  };
  const caPath = security === 'sasl_ssl' ? join(dataDir, 'tls', 'ca.pem') : undefined;
  const ssl = caPath ? { ca: [readFileSync(caPath, 'utf8')] } : undefined;
  const connection = (user: SaslUser, override?: string): TestKafkaConnection => ({
    brokers,
    ...(ssl ? { ssl } : {}),
    sasl: { mechanism: 'scram-sha-512', username: user, password: override ?? password(user) },
  });
  await brokerAnswers(connection('admin')).catch((error: unknown) => {
    destroy();
    throw error;
  });
  return {
    brokers,
    caPath,
    password,
    connection,
    serviceEnv: (user) => ({
      KAFKA_BROKERS: brokers.join(','),
      ...(caPath ? { KAFKA_SSL: 'true', KAFKA_SSL_CA: caPath } : {}),
      KAFKA_SASL_MECHANISM: 'scram-sha-512',
      KAFKA_SASL_USERNAME: user,
      KAFKA_SASL_PASSWORD: password(user),
    }),
    destroy,
  };
}
