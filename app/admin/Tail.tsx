'use client';

import { selectOverview } from '@/store/admin/slice';
import { useAppSelector } from '@/store/hooks';
import { formatClock } from './format';

/** The newest pushes across the cluster: id, type and counts; the data never leaves the server. */
export function Tail() {
  const overview = useAppSelector(selectOverview);
  const tail = overview?.tail ?? [];
  const nodes = new Set(tail.map((t) => t.node));
  return (
    <section className="card admin-card" aria-labelledby="tail-title">
      <div className="admin-card-head">
        <h2 id="tail-title">Live tail</h2>
        <span className="muted">newest first · never the data</span>
      </div>
      <div className="table-scroll tail-scroll" tabIndex={0} role="region" aria-label="Live tail table">
        <table className="admin-table" data-testid="tail">
          <thead>
            <tr>
              <th scope="col">Time</th>
              <th scope="col">Id</th>
              <th scope="col">Type</th>
              <th scope="col" className="num">
                <abbr title="Recipients">Rcpt</abbr>
              </th>
              <th scope="col" className="num">Online</th>
              {nodes.size > 1 && <th scope="col">Node</th>}
            </tr>
          </thead>
          <tbody>
            {tail.map((t) => (
              <tr key={`${t.node}/${t.id}`} data-testid="tail-row" data-id={t.id}>
                <td className="nowrap">{formatClock(t.at)}</td>
                <td className="mono ellipsis" title={t.id}>
                  {t.id}
                </td>
                <td>
                  <span className="type-pill">{t.entityType}</span>
                </td>
                <td className="num">{t.recipients.toLocaleString()}</td>
                <td className="num">{t.online.toLocaleString()}</td>
                {nodes.size > 1 && <td className="mono">{t.node}</td>}
              </tr>
            ))}
          </tbody>
        </table>
        {tail.length === 0 && <p className="empty">No pushes yet. They appear here as the server accepts them.</p>}
      </div>
    </section>
  );
}
