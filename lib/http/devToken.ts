import { HttpError } from '../errors';
import { ErrorCodes } from '../contract';
import { describeIssues, UserIdSchema } from '../validate';
import type { HeraldRuntime } from '../runtime';
import { z } from 'zod';
import { readJsonBody } from './body';
import { json } from './respond';

const DevTokenBody = z.strictObject({ userId: UserIdSchema });
const MAX_DEV_TOKEN_BODY_BYTES = 1024;

/**
 * POST /api/dev/token {"userId"}: signs a token with the per-boot secret so the
 * demo uses the same verified handshake as production. Exists only in dev auth
 * mode; elsewhere it is a 404 like any unknown path.
 */
export async function handleDevToken(request: Request, { runtime }: { runtime: HeraldRuntime }): Promise<Response> {
  if (!runtime.config.devAuth || runtime.config.production) {
    throw new HttpError(404, ErrorCodes.notFound, 'not found');
  }
  const { value } = await readJsonBody(request, MAX_DEV_TOKEN_BODY_BYTES);
  const parsed = DevTokenBody.safeParse(value);
  if (!parsed.success) throw new HttpError(400, ErrorCodes.validationFailed, describeIssues(parsed.error));
  const token = await runtime.signToken(parsed.data.userId);
  return json(200, { token, userId: parsed.data.userId, expiresIn: runtime.config.tokenTtlSeconds });
}
