import { STATUS_CODES } from 'node:http';
import { AppError, httpStatusOf } from '@export/errors';
import { Catch, HttpException, Logger, type ArgumentsHost, type ExceptionFilter } from '@nestjs/common';
import type { Response } from 'express';

export interface ErrorBody {
  statusCode: number;
  error: string;
  message: string;
  field?: string;
}

/** Maps every error to {statusCode, error, message, field?}; unexpected errors answer 500 without details. */
@Catch()
export class AppErrorFilter implements ExceptionFilter {
  private readonly logger = new Logger('AppErrorFilter');

  catch(exception: unknown, host: ArgumentsHost): void {
    const response = host.switchToHttp().getResponse<Response>();
    const body = this.toBody(exception);
    if (body.statusCode === 500) {
      this.logger.error(
        exception instanceof Error ? exception.message : String(exception),
        (exception as Error)?.stack,
      );
    }
    response.status(body.statusCode).json(body);
  }

  private toBody(exception: unknown): ErrorBody {
    if (exception instanceof AppError) {
      const statusCode = httpStatusOf(exception.kind);
      const message = statusCode === 500 ? 'Internal server error' : exception.message;
      const field = typeof exception.details.field === 'string' ? exception.details.field : undefined;
      return { statusCode, error: STATUS_CODES[statusCode] ?? 'Error', message, ...(field ? { field } : {}) };
    }
    if (exception instanceof HttpException) {
      const statusCode = exception.getStatus();
      return { statusCode, error: STATUS_CODES[statusCode] ?? 'Error', message: exception.message };
    }
    return { statusCode: 500, error: STATUS_CODES[500] ?? 'Error', message: 'Internal server error' };
  }
}
