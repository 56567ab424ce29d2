/**
 * The admin API's answers (`/api/admin/*`), shared by the server (lib/admin)
 * and the admin view (app/admin, store/admin). Browser-safe: types only.
 */

/** How /admin is reached: behind ADMIN_TOKEN, open (development without a token), or absent (production without one). */
export type AdminAccess = 'token' | 'open' | 'off';

/** `GET /api/admin/session` when signed in (or open). */
export interface AdminSession {
  access: Exclude<AdminAccess, 'off'>;
  /** When the session cookie stops being accepted (ms since the epoch); null when open. */
  expiresAt: number | null;
}

/** One node of the cluster, as it last reported itself. */
export interface AdminNode {
  id: string;
  /** True for the node that answered this request. */
  self: boolean;
  startedAt: number;
  /** When this status was taken (ms since the epoch). */
  at: number;
  sockets: number;
  users: number;
  /** Accepted pushes per second over the last sample window. */
  pushesPerSecond: number;
  /** Whether each dependency answered its last probe: sqlite or postgres, and redis when clustered. */
  dependencies: Record<string, boolean>;
}

/** One point of the rates chart: a sample window on the answering node. */
export interface AdminRatePoint {
  /** End of the window (ms since the epoch). */
  t: number;
  pushesPerSecond: number;
  /** Delivery lag percentiles in ms over the window; null when nothing was delivered. */
  lagP50: number | null;
  lagP99: number | null;
}

/** One accepted push in the live tail: never its data. */
export interface AdminTailEntry {
  id: string;
  entityType: string;
  recipients: number;
  online: number;
  /** When it was accepted (ms since the epoch). */
  at: number;
  node: string;
}

/** The webhook outbox, shared by the cluster (it lives in the database), at the answering node's last sample. */
export interface AdminOutbox {
  /** Events not put in a batch yet. */
  events: number;
  /** Batches waiting for their first attempt or retrying. */
  pending: number;
  /** Batches out of retries, or stopped by a 410: POST /api/webhooks/retry sends them again. */
  failed: number;
}

/** `GET /api/admin/overview`. */
export interface AdminOverview {
  now: number;
  nodes: AdminNode[];
  rates: { sampleMs: number; points: AdminRatePoint[] };
  /** null when WEBHOOK_URL is unset, or before the first sample. */
  webhooks: AdminOutbox | null;
  /** Newest first. */
  tail: AdminTailEntry[];
}

/** One socket of a looked-up user. */
export interface AdminSocket {
  id: string;
  node: string;
  /** websocket or polling; null when the node that holds it did not say. */
  transport: string | null;
  connectedAt: number;
  /** Highest seq written to this socket; null when unknown. */
  lastSeq: number | null;
  userAgent: string | null;
}

/** One of a looked-up user's notifications: never its data. */
export interface AdminNotification {
  id: string;
  seq: number;
  entityType: string;
  createdAt: string;
  read: boolean;
  /** This user's receipts on it (ISO times), null until reached. */
  deliveredAt: string | null;
  seenAt: string | null;
  readAt: string | null;
}

/** `GET /api/admin/users/:userId`. */
export interface AdminUser {
  userId: string;
  sockets: AdminSocket[];
  unread: number;
  /** The latest 50, newest first. */
  notifications: AdminNotification[];
}
