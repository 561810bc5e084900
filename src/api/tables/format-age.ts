/** Kubernetes' duration.HumanDuration and printers' translateTimestampSince. */

const SECOND = 1000;
const MINUTE = 60 * SECOND;
const HOUR = 60 * MINUTE;

/** Go's integer conversion of a duration truncates toward zero. */
const whole = (ms: number, unit: number): number => Math.trunc(ms / unit);

/** A short human duration with ~2-3 significant figures ("45s", "3m20s", "2h5m", "3d4h", "400d", "2y30d"). */
export function formatAge(ms: number): string {
  // Up to 2s in the future is clock skew between machines, not an error.
  const seconds = whole(ms, SECOND);
  if (seconds < -1) return '<invalid>';
  if (seconds < 0) return '0s';
  if (seconds < 60 * 2) return `${seconds}s`;
  const minutes = whole(ms, MINUTE);
  if (minutes < 10) {
    const s = seconds % 60;
    return s === 0 ? `${minutes}m` : `${minutes}m${s}s`;
  }
  if (minutes < 60 * 3) return `${minutes}m`;
  const hours = whole(ms, HOUR);
  if (hours < 8) {
    const m = minutes % 60;
    return m === 0 ? `${hours}h` : `${hours}h${m}m`;
  }
  if (hours < 48) return `${hours}h`;
  const days = Math.trunc(hours / 24);
  if (hours < 24 * 8) {
    const h = hours % 24;
    return h === 0 ? `${days}d` : `${days}d${h}h`;
  }
  if (hours < 24 * 365 * 2) return `${days}d`;
  const years = Math.trunc(days / 365);
  if (hours < 24 * 365 * 8) {
    const d = days % 365;
    return d === 0 ? `${years}y` : `${years}y${d}d`;
  }
  return `${years}y`;
}

/** Milliseconds since the epoch for an RFC 3339 timestamp; undefined when absent or unparsable (Go's zero time). */
export function parseTimestamp(value: unknown): number | undefined {
  if (typeof value !== 'string' || value === '') return undefined;
  const ms = Date.parse(value);
  return Number.isNaN(ms) ? undefined : ms;
}

/** "5m" for a timestamp five minutes before `now`; "<unknown>" when there is no timestamp. */
export function ageSince(timestamp: unknown, now: Date): string {
  const ms = typeof timestamp === 'number' ? timestamp : parseTimestamp(timestamp);
  return ms === undefined ? '<unknown>' : formatAge(now.getTime() - ms);
}
