'use client';

import { useEffect, useState } from 'react';
import { selectClockOffset } from '@/store/clock/slice';
import { useAppSelector } from '@/store/hooks';

/** How often relative times ("3 minutes ago") are refreshed. */
const CLOCK_TICK_MS = 30_000;

/**
 * The server's current time as this browser knows it (its own clock corrected
 * by the offset from the last sync), refreshed every CLOCK_TICK_MS.
 */
export function useNow(): number {
  const offset = useAppSelector(selectClockOffset);
  const [now, setNow] = useState(() => Date.now());
  useEffect(() => {
    const timer = setInterval(() => setNow(Date.now()), CLOCK_TICK_MS);
    return () => clearInterval(timer);
  }, []);
  return now + offset;
}
