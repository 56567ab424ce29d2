import 'server-only';
import { z } from 'zod';
import { HttpError } from '../errors';
import { ErrorCodes } from '../contract';
import { describeIssues, UserIdSchema } from '../validate';
import type { Route } from './router';

/** The body of POST /api/dev/token (the OpenAPI document reads it too). */
export const DevTokenBodySchema = z.strictObject({ userId: UserIdSchema });
const MAX_DEV_TOKEN_BODY_BYTES = 1024;

/**
 * POST /api/dev/token {"userId"}: signs a token with the per-boot secret so the
 * demo uses the same verified handshake as production. The route exists only
 * in dev auth mode (boot.ts adds it); elsewhere its path is a 404 like any
 * unknown one.
 */
export function devTokenRoutes(deps: { signToken(userId: string): Promise<string>; tokenTtlSeconds: number }): Route[] {
  return [
    {
      method: 'POST',
      path: '/api/dev/token',
      name: 'dev-token',
      handler: async (req) => {
        const parsed = DevTokenBodySchema.safeParse(await req.json(MAX_DEV_TOKEN_BODY_BYTES));
        if (!parsed.success) throw new HttpError(400, ErrorCodes.validationFailed, describeIssues(parsed.error));
        const token = await deps.signToken(parsed.data.userId);
        return { status: 200, body: { token, userId: parsed.data.userId, expiresIn: deps.tokenTtlSeconds } };
      },
    },
  ];
}
