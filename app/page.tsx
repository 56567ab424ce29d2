import { findRuntime } from '@/lib/runtime';
import { Demo } from './components/Demo';

// Reads the running server's settings on each request.
export const dynamic = 'force-dynamic';

export default function Home() {
  const config = findRuntime()?.config;
  return (
    <Demo
      socketPath={config?.socketPath ?? '/socket.io'}
      devAuth={config ? config.devAuth && !config.production : false}
      openPushApi={config ? config.pushApiKey === undefined : false}
    />
  );
}
