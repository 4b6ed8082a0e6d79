/**
 * JumpCloud's error responses. The raw OpenAPI specs (v1 and v2) declare one `Error` schema,
 * `{code, message, status}` (status in the gRPC style their own examples use, e.g.
 * `INVALID_ARGUMENT`), so every error the emulator sends has that shape; clients that only read
 * `message` (the older `{"message": "Unauthorized"}` form) work too.
 */
import type { ZodError } from 'zod';

const STATUS_NAMES: Record<number, string> = {
  400: 'INVALID_ARGUMENT',
  401: 'UNAUTHENTICATED',
  403: 'PERMISSION_DENIED',
  404: 'NOT_FOUND',
  409: 'ALREADY_EXISTS',
  412: 'FAILED_PRECONDITION',
  422: 'INVALID_ARGUMENT',
  429: 'RESOURCE_EXHAUSTED',
  500: 'INTERNAL',
  502: 'UNAVAILABLE',
  503: 'UNAVAILABLE',
  504: 'DEADLINE_EXCEEDED',
};

export interface JumpCloudErrorBody {
  code: number;
  message: string;
  status: string;
}

export function jumpCloudErrorBody(code: number, message: string): JumpCloudErrorBody {
  return { code, message, status: STATUS_NAMES[code] ?? (code >= 500 ? 'INTERNAL' : 'UNKNOWN') };
}

/** A refusal with the status the real service answers; thrown by the store, sent by the routes. */
export class JumpCloudError extends Error {
  override name = 'JumpCloudError';
  constructor(
    readonly statusCode: number,
    message: string,
  ) {
    super(message);
  }
}

export const badRequest = (message: string) => new JumpCloudError(400, `Bad Request: ${message}`);
export const notFound = (what: string) => new JumpCloudError(404, `Not Found: ${what}`);
export const conflict = (message: string) => new JumpCloudError(409, `Conflict: ${message}`);

/** One line naming each offending field, as a 400 message. */
export function describeZodError(error: ZodError): string {
  return error.issues
    .map((issue) => (issue.path.length > 0 ? `${issue.path.join('.')}: ${issue.message}` : issue.message))
    .join('; ');
}
