'use client';

import { useState, type ReactNode } from 'react';
import { Provider } from 'react-redux';
import { z } from 'zod';
import { makeStore } from '@/store';

// zod probes for eval() to compile fast parsers; under our CSP (no unsafe-eval) that probe is a
// reported violation. The browser parses little, so the interpreted path costs nothing noticeable.
z.config({ jitless: true });

/** One store per tab, created once per mount (Redux Toolkit's Next.js pattern). */
export function StoreProvider({ children }: { children: ReactNode }) {
  const [store] = useState(makeStore);
  return <Provider store={store}>{children}</Provider>;
}
