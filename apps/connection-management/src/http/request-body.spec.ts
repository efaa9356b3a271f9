import { HttpException } from '@nestjs/common';
import { requestBodyError } from './request-body';

/** What body-parser throws (through http-errors): a client error marked with its status and type. */
const bodyParserError = (status: number, type: string, message: string, extra: object = {}) =>
  Object.assign(new Error(message), { status, statusCode: status, expose: true, type, ...extra });

const answer = (error: unknown) => {
  const mapped = requestBodyError(error);
  return mapped && { status: mapped.getStatus(), message: mapped.message };
};

describe('requestBodyError', () => {
  it("answers body-parser's client errors with their status and a fixed message, never the body", () => {
    expect(
      answer(bodyParserError(413, 'entity.too.large', 'request entity too large', { limit: 102400 })),
    ).toEqual({
      status: 413,
      message: 'Request body is larger than the limit of 102400 bytes',
    });
    const broken = bodyParserError(
      400,
      'entity.parse.failed',
      `Unexpected token 's', "{"apiKey": secret-key}"`,
      {
        body: '{"apiKey": secret-key}',
      },
    );
    expect(answer(broken)).toEqual({ status: 400, message: 'Request body is not valid JSON' });
    expect(answer(bodyParserError(415, 'encoding.unsupported', 'unsupported content encoding "x"'))).toEqual({
      status: 415,
      message: 'Unsupported content encoding of the request body',
    });
    expect(answer(bodyParserError(415, 'charset.unsupported', 'unsupported charset "NONSENSE"'))).toEqual({
      status: 415,
      message: 'Unsupported charset of the request body',
    });
    // A body that claims gzip but is not: zlib's error, wrapped by body-parser as a 400 of no known type.
    expect(answer(bodyParserError(400, 'undefined', 'incorrect header check'))).toEqual({
      status: 400,
      message: 'Bad Request',
    });
    expect(requestBodyError(bodyParserError(413, 'entity.too.large', 'x'))).toBeInstanceOf(HttpException);
  });

  it('leaves other errors alone, also those that merely carry a status', () => {
    expect(requestBodyError(new Error('bug'))).toBeUndefined();
    expect(requestBodyError(Object.assign(new Error('upstream said 404'), { status: 404 }))).toBeUndefined();
    expect(requestBodyError(Object.assign(new Error('odd'), { status: 503, expose: true }))).toBeUndefined();
    expect(requestBodyError('not an error')).toBeUndefined();
  });
});
