/**
 * The one error type. Each named constructor has a stable code and an HTTP status; the error handler
 * (http/errorHandler.ts) is the only place that turns errors into responses. 5xx messages are generic
 * to clients; details go to the log with the request id.
 */
export class AppError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    /** Extra JSON fields for the client (e.g. orderId, reason). Never internals. */
    readonly body: Record<string, unknown> = {},
    /** Sent as headers (e.g. Retry-After). */
    readonly headers: Record<string, string> = {},
  ) {
    super(message);
    this.name = 'AppError';
  }
}

export const badRequest = (message: string) => new AppError(400, 'bad_request', message);
export const unauthorized = (message = 'unauthorized') => new AppError(401, 'unauthorized', message);
export const forbidden = (message = 'forbidden') => new AppError(403, 'forbidden', message);
export const notFound = (message = 'not found') => new AppError(404, 'not_found', message);
export const conflict = (message: string) => new AppError(409, 'conflict', message);
export const unprocessable = (message: string) => new AppError(422, 'unprocessable', message);
export const requestTimeout = (message = 'request not received in time') => new AppError(408, 'request_timeout', message);
export const payloadTooLarge = (message = 'request body too large') => new AppError(413, 'payload_too_large', message);
export const unsupportedMediaType = (message = 'Content-Type must be application/json') => new AppError(415, 'unsupported_media_type', message);
export const tooManyRequests = (message: string, retryAfterSeconds: number) =>
  new AppError(429, 'too_many_requests', message, {}, { 'Retry-After': String(Math.max(1, Math.ceil(retryAfterSeconds))) });
export const serviceUnavailable = (message = 'service temporarily unavailable', body: Record<string, unknown> = {}) =>
  new AppError(503, 'service_unavailable', message, body);
export const internal = () => new AppError(500, 'internal', 'internal server error');
