'use client';

import { selectOverview } from '@/store/admin/slice';
import { useAppSelector } from '@/store/hooks';
import { formatDuration, formatRate } from './format';

/** Every live node of the cluster: id, uptime, sockets, users, pushes/s and the state of each dependency. */
export function Nodes() {
  const overview = useAppSelector(selectOverview);
  const nodes = overview?.nodes ?? [];
  return (
    <section className="card admin-card admin-wide" aria-labelledby="nodes-title">
      <div className="admin-card-head">
        <h2 id="nodes-title">Nodes</h2>
        <span className="admin-count">{nodes.length === 1 ? '1 node' : `${nodes.length} nodes`}</span>
      </div>
      <div className="table-scroll" tabIndex={0} role="region" aria-label="Nodes table">
        <table className="admin-table">
          <thead>
            <tr>
              <th scope="col">Node</th>
              <th scope="col">Uptime</th>
              <th scope="col" className="num">Sockets</th>
              <th scope="col" className="num">Users</th>
              <th scope="col" className="num">Pushes/s</th>
              <th scope="col">Dependencies</th>
            </tr>
          </thead>
          <tbody>
            {nodes.map((node) => (
              <tr key={node.id} data-testid="node-row" data-node={node.id}>
                <th scope="row" className="mono">
                  {node.id}
                  {node.self && <span className="admin-self">this node</span>}
                </th>
                <td>{formatDuration((overview?.now ?? node.at) - node.startedAt)}</td>
                <td className="num" data-testid="node-sockets">
                  {node.sockets.toLocaleString()}
                </td>
                <td className="num">{node.users.toLocaleString()}</td>
                <td className="num">{formatRate(node.pushesPerSecond)}</td>
                <td>
                  <span className="deps">
                    {Object.entries(node.dependencies).map(([name, up]) => (
                      <span key={name} className={`dep ${up ? 'dep-up' : 'dep-down'}`}>
                        <span className="status-dot" aria-hidden="true" />
                        {name} {up ? 'ready' : 'down'}
                      </span>
                    ))}
                    {Object.keys(node.dependencies).length === 0 && <span className="muted">checking…</span>}
                  </span>
                </td>
              </tr>
            ))}
          </tbody>
        </table>
        {nodes.length === 0 && <p className="empty">Waiting for the first report…</p>}
      </div>
    </section>
  );
}
