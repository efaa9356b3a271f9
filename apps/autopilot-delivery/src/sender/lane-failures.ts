import { isAutopilotFailure } from '@export/autopilot-client';
import type { RunFailureCode } from '@export/contracts';
import { AppError, errorMessage } from '@export/errors';
import type { Logger } from 'pino';
import { keyHash, KeyRejectedError, type KeyPacer } from '../pacing/key-pacer';
import type { LeasedRun } from '../runs/runs.repository';
import { RateLimitedTooLongError } from './autopilot-caller';
import type { Credentials, CredentialsClient } from './credentials.client';

/** The run cannot go on, for a reason of its own: it fails with this code. */
export class RunFailure extends Error {
  constructor(
    readonly code: RunFailureCode,
    message: string,
  ) {
    super(message);
  }
}

/** The control plane has ended the run (its cancel order may still be on its way). */
export class RunNoLongerConfirmed extends Error {}

/**
 * The connection's key for a run, asked of the control plane until it answers: a deleted or unknown connection
 * is the run's failure (CONNECTION_MISSING), a key marked rejected (here or by any instance) a KeyRejectedError,
 * a run the control plane no longer confirms RunNoLongerConfirmed.
 */
export async function fetchCredentials(
  run: LeasedRun,
  deps: { credentials: CredentialsClient; pacer: KeyPacer },
  signal: AbortSignal,
  log: Logger,
): Promise<Credentials> {
  const { connectionId } = run.spec;
  for (let attempt = 1; ; attempt++) {
    try {
      const credentials = await deps.credentials.get(connectionId, run.tenantId, run.runId);
      if (credentials.status === 'deleted')
        throw new RunFailure('CONNECTION_MISSING', `Connection ${connectionId} was deleted`);
      if (
        credentials.status === 'needs-attention' ||
        (await deps.pacer.isDead(keyHash(credentials.apiKey), credentials.keyVersion))
      ) {
        throw new KeyRejectedError();
      }
      return credentials;
    } catch (error) {
      if (error instanceof AppError && error.kind === 'not-found')
        throw new RunFailure('CONNECTION_MISSING', error.message);
      if (error instanceof AppError && error.kind === 'conflict') throw new RunNoLongerConfirmed(error.message);
      if (error instanceof AppError && error.kind === 'upstream-unavailable') {
        const delay = Math.min(30_000, 500 * 2 ** Math.min(attempt, 6));
        log.warn({ err: errorMessage(error), delayMs: delay }, 'credentials unavailable; retrying');
        await new Promise((resolve) => setTimeout(resolve, delay));
        signal.throwIfAborted();
        continue;
      }
      throw error;
    }
  }
}

/** What Autopilot's lasting refusals mean for the run: its failure code and message; undefined for anything else. */
export function destinationFailure(error: unknown): { code: RunFailureCode; message: string } | undefined {
  if (error instanceof RateLimitedTooLongError) return { code: 'RATE_LIMITED_TOO_LONG', message: error.message };
  if (isAutopilotFailure(error, 'forbidden'))
    return { code: 'DESTINATION_FORBIDDEN', message: `Autopilot refused the key this action (403): ${error.message}` };
  if (isAutopilotFailure(error, 'not-found'))
    return {
      code: 'DESTINATION_LIST_MISSING',
      message: `Autopilot answered 404 again after the run's lists were looked up again: ${error.message}`,
    };
  if (isAutopilotFailure(error, 'unavailable'))
    return { code: 'DESTINATION_UNAVAILABLE', message: `Autopilot stayed unavailable: ${error.message}` };
  return undefined;
}
