/**
 * Request bodies over the limit are refused with 413 before they are read. yoga's own limit wraps every body in a
 * counting stream, which costs a stream pipeline (and the abort machinery it builds) on every request. Node's HTTP
 * parser already stops a body at its declared `Content-Length`, so a declared length is checked once and the body
 * left alone; only a body without one (chunked) is counted as it arrives.
 */
import { GraphQLError } from 'graphql';
import type { Plugin } from 'graphql-yoga';
import { ErrorCode } from '../error-codes.js';

const DECLARED_LENGTH = /^\d+$/;

export function useBodyLimit(maxBytes: number): Plugin {
  const tooLarge = () =>
    new GraphQLError(`The request body is larger than ${maxBytes} bytes.`, {
      extensions: { code: ErrorCode.REQUEST_ENTITY_TOO_LARGE, http: { status: 413 } },
    });
  return {
    onRequestParse({ request, requestParser, setRequestParser, fetchAPI }) {
      const declared = request.headers.get('content-length');
      if (declared !== null) {
        if (!DECLARED_LENGTH.test(declared)) {
          throw new GraphQLError('Content-Length header is invalid.', {
            extensions: { code: ErrorCode.BAD_REQUEST, http: { status: 400 } },
          });
        }
        if (Number(declared) > maxBytes) throw tooLarge();
        return;
      }
      if (!request.body || !requestParser) return;
      let received = 0;
      const counted = request.body.pipeThrough(
        new TransformStream<Uint8Array, Uint8Array>({
          transform(chunk, controller) {
            received += chunk.byteLength;
            if (received > maxBytes) controller.error(tooLarge());
            else controller.enqueue(chunk);
          },
        }),
      );
      const parse = requestParser;
      setRequestParser((original) =>
        parse(
          new fetchAPI.Request(original.url, {
            method: original.method,
            headers: original.headers,
            body: counted,
            // @ts-expect-error `duplex` is required for a streamed body, and missing from the type declarations
            duplex: 'half',
          }),
        ),
      );
    },
  };
}
