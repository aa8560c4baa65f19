import type { FastifyError, FastifyInstance } from 'fastify';
import { z } from 'zod';
import { hasZodFastifySchemaValidationErrors, isResponseSerializationError } from 'fastify-type-provider-zod';
import { ServiceError } from '@temporalio/client';
import { DomainError } from '../services/lib/errors';

/** Every error answer: `{ "error": { "code", "message", "details"? } }`. */
export const ErrorSchema = z.object({
  error: z.object({
    code: z.string().describe('stable, machine-readable'),
    message: z.string().describe('for people'),
    details: z.unknown().optional().describe('e.g. { problems: [{ path, message }] } naming each bad field'),
  }),
}).meta({ id: 'Error' });

export const errorResponses = {
  400: ErrorSchema, 401: ErrorSchema, 403: ErrorSchema, 404: ErrorSchema, 409: ErrorSchema, 422: ErrorSchema,
} as const;

function body(code: string, message: string, details?: unknown) {
  return { error: details === undefined ? { code, message } : { code, message, details } };
}

/** Maps request validation, domain and framework errors to 4xx JSON; only the unforeseen is a 500. */
export function registerErrorHandling(app: FastifyInstance): void {
  app.setNotFoundHandler((request, reply) => {
    reply.code(404).send(body('route_not_found', `No route ${request.method} ${request.url.split('?')[0]}`));
  });

  app.setErrorHandler((error: FastifyError, request, reply) => {
    if (hasZodFastifySchemaValidationErrors(error)) {
      const where = error.validationContext ?? 'body';
      const problems = error.validation.map((v) => ({
        path: [where, ...v.instancePath.split('/').filter(Boolean)].join('.'),
        message: v.message ?? 'is invalid',
      }));
      const first = problems[0]!;
      return reply.code(400).send(body('invalid_request', `${first.path}: ${first.message}`, { problems }));
    }
    if (error instanceof DomainError) {
      return reply.code(error.status).send(body(error.code, error.message, error.details));
    }
    if (error instanceof ServiceError || error.name === 'ServiceError') {
      request.log.error({ err: error }, 'Temporal unavailable');
      return reply.code(503).header('Retry-After', '5').send(body('temporal_unavailable', 'The workflow engine did not answer; retry shortly'));
    }
    if (isResponseSerializationError(error)) {
      request.log.error({ err: error, issues: error.cause.issues }, 'response did not match its schema');
      return reply.code(500).send(body('internal_error', 'The server produced an invalid response'));
    }
    const status = error.statusCode ?? (error as { status?: number }).status ?? 500;
    if (status >= 400 && status < 500) {
      const code = (error.code ?? 'bad_request').replace(/^FST_ERR_(CTP_)?/, '').toLowerCase();
      return reply.code(status).send(body(code, error.message));
    }
    request.log.error({ err: error }, 'unhandled error');
    return reply.code(500).send(body('internal_error', 'Something went wrong on our side; it has been logged'));
  });
}
