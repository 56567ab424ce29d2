/**
 * Times as a person reads them. `now` is the server's clock as this browser
 * knows it (store/clock), so a browser whose clock is wrong still reads
 * "just now" for what just arrived.
 */

const UNITS: Array<[Intl.RelativeTimeFormatUnit, number]> = [
  ['year', 365 * 24 * 3600],
  ['month', 30 * 24 * 3600],
  ['week', 7 * 24 * 3600],
  ['day', 24 * 3600],
  ['hour', 3600],
  ['minute', 60],
];

// Formatters are built once: building one costs far more than formatting with it.
const relative = new Intl.RelativeTimeFormat('en', { numeric: 'auto' });
const absolute = new Intl.DateTimeFormat('en', { dateStyle: 'medium', timeStyle: 'short' });

/** Under this many seconds old (or in the future: clocks disagree) a time reads "just now". */
const JUST_NOW_SECONDS = 45;

/** "just now", "3 minutes ago", "yesterday". Never a time in the future. */
export function relativeTime(iso: string, now: number = Date.now()): string {
  const seconds = Math.round((now - new Date(iso).getTime()) / 1000);
  if (!Number.isFinite(seconds)) return '';
  if (seconds < JUST_NOW_SECONDS) return 'just now';
  for (const [unit, size] of UNITS) {
    if (seconds >= size) return relative.format(-Math.round(seconds / size), unit);
  }
  return relative.format(-(Math.round(seconds / 60) || 1), 'minute');
}

/** The full local date and time, for a tooltip or the detail view. */
export function absoluteTime(iso: string): string {
  const date = new Date(iso);
  if (!Number.isFinite(date.getTime())) return '';
  return absolute.format(date);
}

export type DayGroup = 'Today' | 'Yesterday' | 'Earlier';

/** Which day heading a time falls under, by the calendar of this browser's time zone. */
export function dayGroup(iso: string, now: number = Date.now()): DayGroup {
  const t = new Date(iso).getTime();
  if (!Number.isFinite(t)) return 'Earlier';
  const startOfToday = new Date(now);
  startOfToday.setHours(0, 0, 0, 0);
  const today = startOfToday.getTime();
  if (t >= today) return 'Today';
  const startOfYesterday = new Date(startOfToday);
  startOfYesterday.setDate(startOfYesterday.getDate() - 1);
  return t >= startOfYesterday.getTime() ? 'Yesterday' : 'Earlier';
}
