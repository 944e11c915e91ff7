/**
 * A numbered stream of frames: the room's (`offset`: 1, 2, 3… the same order
 * for everyone), or one reader's private one (`privateOffset`). Frames arrive
 * late, twice, or never; they leave here in order. A frame beyond the next one
 * expected is held until the gap fills; after `HOLD_MS` the page asks the
 * server for what is missing (`sync`), and once the server says it sent all
 * there is (`complete`), it stops waiting: an offset taken by an invocation
 * that failed is never filled.
 */

export interface Stream<T> {
  /** Every number up to this one was let through, or given up on; null before the first. */
  last: number | null;
  /** Frames beyond a gap, by number. */
  held: readonly (readonly [number, T])[];
}

export const emptyStream: Stream<never> = { last: null, held: [] };

/** How long a gap may stay open before the page asks for what is missing. */
export const HOLD_MS = 1500;
/** How long to wait for an answer to that question before asking again. */
export const RESYNC_MS = 5000;

/** The stream after frame `n` arrived, and the frames it lets through, in order.
 * One at or below `last` goes through at once: late, or a copy (the room knows
 * which lines it has). The first frame of a stream with no start begins it. */
export function arrive<T>(stream: Stream<T>, n: number, frame: T): [Stream<T>, T[]] {
  const last = stream.last ?? n - 1;
  if (n <= last) return [stream, [frame]];
  if (n > last + 1) {
    const held = stream.held.filter(([k]) => k !== n);
    held.push([n, frame]);
    held.sort((a, b) => a[0] - b[0]);
    return [{ last, held }, []];
  }
  const ready = [frame];
  let next = n;
  let i = 0;
  for (; i < stream.held.length && stream.held[i][0] <= next + 1; i++) {
    const [k, held] = stream.held[i];
    if (k === next + 1) {
      ready.push(held);
      next = k;
    }
  }
  return [{ last: next, held: stream.held.slice(i) }, ready];
}

/** Stops waiting: every held frame goes through, in order, gaps and all. */
export function release<T>(stream: Stream<T>): [Stream<T>, T[]] {
  const top = stream.held.at(-1);
  if (top === undefined) return [stream, []];
  return [{ last: top[0], held: [] }, stream.held.map(([, frame]) => frame)];
}

/** When to ask the server for what is missing: `HOLD_MS` after a gap opened,
 * and again `RESYNC_MS` after an unanswered request; null with no gap. */
export function syncDue(gapSince: number | null, syncedAt: number | null): number | null {
  if (gapSince === null) return null;
  return syncedAt === null ? gapSince + HOLD_MS : syncedAt + RESYNC_MS;
}
