'use client';

import { useEffect, useState } from 'react';
import type { NotificationStatus, RecipientStatus } from '@/lib/contract';

/** A push the demo sent: its id and what it was. */
export interface SentPush {
  id: string;
  label: string;
}

/** The receipts are read again this often while any shown push is not read yet. */
const POLL_MS = 1_000;
/** And for at most this long after the newest push: a tab left open stops asking. */
const POLL_FOR_MS = 2 * 60_000;

type Receipts = Pick<RecipientStatus, 'deliveredAt' | 'seenAt' | 'readAt'>;

/**
 * The last pushes the demo sent to the signed-in user, each with its receipts
 * (delivered · seen · read) from `GET /api/notifications/:id`. The demo sends
 * only where the push API is open (development), so the route needs no key and
 * the page never holds one.
 */
export function SentReceipts({ sent, userId }: { sent: SentPush[]; userId: string }) {
  const [receipts, setReceipts] = useState<Record<string, Receipts>>({});
  const pending = sent.filter((p) => receipts[p.id]?.readAt == null).map((p) => p.id);
  const key = pending.join(' ');

  useEffect(() => {
    if (key === '') return;
    const ids = key.split(' ');
    const until = Date.now() + POLL_FOR_MS;
    let stopped = false;
    const read = async () => {
      const found = await Promise.all(
        ids.map(async (id) => {
          const res = await fetch(`/api/notifications/${encodeURIComponent(id)}`).catch(() => null);
          if (!res?.ok) return null;
          const status = (await res.json().catch(() => null)) as NotificationStatus | null;
          const mine = status?.recipients.find((r) => r.userId === userId);
          return mine ? ([id, { deliveredAt: mine.deliveredAt, seenAt: mine.seenAt, readAt: mine.readAt }] as const) : null;
        }),
      );
      if (stopped) return;
      setReceipts((before) => ({ ...before, ...Object.fromEntries(found.filter((f) => f !== null)) }));
    };
    void read();
    const timer = setInterval(() => {
      if (Date.now() > until) clearInterval(timer);
      else void read();
    }, POLL_MS);
    return () => {
      stopped = true;
      clearInterval(timer);
    };
  }, [key, userId]);

  if (sent.length === 0) return null;
  return (
    <ul className="sent-list" aria-label="Sent, with receipts">
      {sent.map((p) => {
        const r = receipts[p.id];
        return (
          <li key={p.id} data-testid="sent-push" data-id={p.id}>
            <span>{p.label}</span>
            <span className="ticks">
              <Tick label="delivered" at={r?.deliveredAt ?? null} />
              <Tick label="seen" at={r?.seenAt ?? null} />
              <Tick label="read" at={r?.readAt ?? null} />
            </span>
          </li>
        );
      })}
    </ul>
  );
}

function Tick({ label, at }: { label: string; at: string | null }) {
  return (
    <span className={at ? 'tick tick-on' : 'tick'} data-receipt={label} data-reached={at ? 'true' : 'false'} title={at ? `${label} at ${new Date(at).toLocaleTimeString()}` : `not ${label} yet`}>
      <span aria-hidden="true">{at ? '✓' : '·'}</span> {label}
    </span>
  );
}
