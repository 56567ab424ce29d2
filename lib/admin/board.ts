/** The shared Redis hash of node statuses for the admin view (cluster.ts writes it, admin/monitor.ts reads it). */
export interface AdminBoard {
  write(nodeId: string, status: string): Promise<void>;
  read(): Promise<Record<string, string>>;
  remove(nodeId: string): Promise<void>;
}
