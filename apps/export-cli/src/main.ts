import { readFileSync } from 'node:fs';
import { createApi } from './api-client';
import { runCli } from './cli';
import { kafkaDeadLetterTopic } from './dead-letters/kafka-dead-letter-topic';
import { kafkaEventPublisher } from './events/kafka-event-publisher';

runCli(process.argv.slice(2), {
  out: (text) => process.stdout.write(`${text}\n`),
  err: (text) => process.stderr.write(`${text}\n`),
  createApi,
  readFile: (path) => readFileSync(path, 'utf8'),
  progressStream: process.stderr,
  openDeadLetters: kafkaDeadLetterTopic,
  openPublisher: (brokers) => kafkaEventPublisher(brokers),
}).then((code) => {
  process.exitCode = code;
});
