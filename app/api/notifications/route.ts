import { handleListForBackend } from '@/lib/http/notifications';
import { methodNotAllowed, route } from '@/lib/http/respond';

/** GET /api/notifications?userId=…&before=…&limit=…: history for backends (push-API key). */
export const dynamic = 'force-dynamic';

export const GET = route('notifications', handleListForBackend);
export const POST = methodNotAllowed(['GET']);
