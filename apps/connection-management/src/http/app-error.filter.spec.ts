import { AppError } from '@export/errors';
import { NotFoundException, type ArgumentsHost } from '@nestjs/common';
import { AppErrorFilter } from './app-error.filter';

function respond(exception: unknown): { status: number; body: unknown } {
  const result = { status: 0, body: undefined as unknown };
  const response = {
    status(code: number) {
      result.status = code;
      return this;
    },
    json(body: unknown) {
      result.body = body;
    },
  };
  const host = { switchToHttp: () => ({ getResponse: () => response }) } as unknown as ArgumentsHost;
  new AppErrorFilter().catch(exception, host);
  return result;
}

describe('AppErrorFilter', () => {
  it('maps AppError kinds to their status with the field at fault', () => {
    expect(
      respond(new AppError('validation', 'mapping.email: Required', { field: 'mapping.email' })),
    ).toEqual({
      status: 400,
      body: {
        statusCode: 400,
        error: 'Bad Request',
        message: 'mapping.email: Required',
        field: 'mapping.email',
      },
    });
    expect(respond(new AppError('upstream-rejected', 'Autopilot rejected the API key')).status).toBe(422);
    expect(respond(new AppError('upstream-unavailable', 'down')).status).toBe(502);
    expect(respond(new AppError('conflict', 'in use')).status).toBe(409);
  });

  it('keeps Nest HTTP errors and hides the details of unexpected ones', () => {
    expect(respond(new NotFoundException('Cannot GET /nope')).body).toEqual({
      statusCode: 404,
      error: 'Not Found',
      message: 'Cannot GET /nope',
    });
    expect(respond(new Error('password=hunter2 in a driver error'))).toEqual({
      status: 500,
      body: { statusCode: 500, error: 'Internal Server Error', message: 'Internal server error' },
    });
  });
});
