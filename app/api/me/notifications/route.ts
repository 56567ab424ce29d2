import { handleListForUser } from '@/lib/http/notifications';
import { methodNotAllowed, route } from '@/lib/http/respond';

/** GET /api/me/notifications?before=…&limit=…: the token holder's own history. */
export const dynamic = 'force-dynamic';

export const GET = route('me-notifications', handleListForUser);
export const POST = methodNotAllowed(['GET']);
