import { handleDevToken } from '@/lib/http/devToken';
import { methodNotAllowed, route } from '@/lib/http/respond';

/** POST /api/dev/token: dev auth mode only (404 otherwise). */
export const dynamic = 'force-dynamic';

export const POST = route('dev-token', handleDevToken);
export const GET = methodNotAllowed(['POST']);
