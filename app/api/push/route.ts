import { handlePush } from '@/lib/http/push';
import { methodNotAllowed, route } from '@/lib/http/respond';

/** POST /api/push: a backend names users to notify. Thin: the work is in lib/. */
export const dynamic = 'force-dynamic';

export const POST = route('push', handlePush);
export const GET = methodNotAllowed(['POST']);
export const PUT = GET;
export const PATCH = GET;
export const DELETE = GET;
