import { readFileSync } from 'node:fs';
import { createApi } from './api-client';
import { runCli } from './cli';

runCli(process.argv.slice(2), {
  out: (text) => process.stdout.write(`${text}\n`),
  err: (text) => process.stderr.write(`${text}\n`),
  createApi,
  readFile: (path) => readFileSync(path, 'utf8'),
  progressStream: process.stderr,
}).then((code) => {
  process.exitCode = code;
});
