/**
 * The simulator's failure taxonomy. Pure logic throws `ApiError` with a kind; the HTTP layer maps the
 * kind to a status and Autopilot's `{"error", "message"}` body through one exhaustive switch.
 */
export type ApiErrorKind =
  | 'bad-request'
  | 'unauthorized'
  | 'not-found'
  | 'conflict'
  | 'payload-too-large'
  | 'too-many-requests'
  | 'unavailable';

export class ApiError extends Error {
  constructor(
    readonly kind: ApiErrorKind,
    message: string,
  ) {
    super(message);
    this.name = 'ApiError';
  }
}

export interface ApiErrorResponse {
  status: number;
  body: { error: string; message: string };
}

/** Maps an error kind to the HTTP status and reason phrase Autopilot answers with. */
export function toErrorResponse(error: ApiError): ApiErrorResponse {
  return { status: statusOf(error.kind), body: { error: reasonOf(error.kind), message: error.message } };
}

export function statusOf(kind: ApiErrorKind): number {
  switch (kind) {
    case 'bad-request':
      return 400;
    case 'unauthorized':
      return 401;
    case 'not-found':
      return 404;
    case 'conflict':
      return 409;
    case 'payload-too-large':
      return 413;
    case 'too-many-requests':
      return 429;
    case 'unavailable':
      return 503;
  }
}

function reasonOf(kind: ApiErrorKind): string {
  switch (kind) {
    case 'bad-request':
      return 'Bad Request';
    case 'unauthorized':
      return 'Unauthorized';
    case 'not-found':
      return 'Not Found';
    case 'conflict':
      return 'Conflict';
    case 'payload-too-large':
      return 'Payload Too Large';
    case 'too-many-requests':
      return 'Too Many Requests';
    case 'unavailable':
      return 'Service Unavailable';
  }
}
