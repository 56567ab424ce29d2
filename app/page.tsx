import { pageSettings } from '@/lib/runtime';
import { Demo } from './components/Demo';

// Reads the running server's settings on each request.
export const dynamic = 'force-dynamic';

export default function Home() {
  const settings = pageSettings();
  return (
    <Demo
      socketPath={settings?.socketPath ?? '/socket.io'}
      devAuth={settings?.devAuth ?? false}
      openPushApi={settings?.openPushApi ?? false}
      idleDisconnectMs={settings?.idleDisconnectMs}
    />
  );
}
