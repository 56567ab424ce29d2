import 'server-only';
/**
 * `work`'s answer, or `fallback` once `ms` have passed without one. The timer is
 * cleared as soon as either settles: callers race a Redis round trip on every
 * push, and a timer left to run out would keep its closure and promise alive for
 * the full timeout after each one. It is unref'd, so it never holds the process
 * open by itself.
 */
export async function orAfter<T, F>(work: Promise<T>, ms: number, fallback: F): Promise<T | F> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const timeout = new Promise<F>((resolve) => {
    timer = setTimeout(() => resolve(fallback), ms);
    timer.unref();
  });
  try {
    return await Promise.race([work, timeout]);
  } finally {
    clearTimeout(timer);
  }
}
