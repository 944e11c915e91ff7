import { describe, expect, it } from "vitest";

import { HOLD_MS, RESYNC_MS, type Stream, arrive, emptyStream, release, syncDue } from "./stream";

/** Feeds numbered frames (each frame is its number) and collects what goes through. */
function feed(stream: Stream<number>, ...numbers: number[]): [Stream<number>, number[]] {
  const out: number[] = [];
  for (const n of numbers) {
    const [next, ready] = arrive(stream, n, n);
    stream = next;
    out.push(...ready);
  }
  return [stream, out];
}

describe("a numbered stream", () => {
  it("lets frames through in order, holding those beyond a gap until it fills", () => {
    const [start] = feed({ last: 0, held: [] });
    const [held, before] = feed(start, 1, 3, 5, 4);
    expect(before).toEqual([1]);
    expect(held).toEqual({ last: 1, held: [[3, 3], [4, 4], [5, 5]] });
    const [filled, after] = feed(held, 2);
    expect(after).toEqual([2, 3, 4, 5]);
    expect(filled).toEqual({ last: 5, held: [] });
  });

  it("begins where its first frame is, and holds a frame once however often it comes", () => {
    const [stream, out] = feed(emptyStream, 7, 9, 9, 9);
    expect(out).toEqual([7]);
    expect(stream.held).toEqual([[9, 9]]);
  });

  it("lets a frame at or below the last through: late, or a copy the room will drop", () => {
    const [stream, out] = feed({ last: 4, held: [] }, 2, 4);
    expect(out).toEqual([2, 4]);
    expect(stream.last).toBe(4);
  });

  it("gives up on a gap when told, letting everything held through", () => {
    const [held] = feed({ last: 1, held: [] }, 4, 3, 6);
    expect(release(held)).toEqual([{ last: 6, held: [] }, [3, 4, 6]]);
    const [after] = release(held);
    expect(feed(after, 7)[1]).toEqual([7]);
    const none: Stream<number> = { last: 2, held: [] };
    expect(release(none)[0]).toBe(none);
  });

  it("asks for a gap after holding it a while, and again if nobody answers", () => {
    expect(syncDue(null, null)).toBeNull();
    expect(syncDue(1000, null)).toBe(1000 + HOLD_MS);
    expect(syncDue(1000, 2500)).toBe(2500 + RESYNC_MS);
    expect(HOLD_MS).toBeGreaterThanOrEqual(1000);
    expect(HOLD_MS).toBeLessThanOrEqual(2000);
  });
});
