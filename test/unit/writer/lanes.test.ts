import { describe, expect, it } from 'vitest';
import { LaneQueues } from '../../../src/writer/lanes.js';
import { TargetSet } from '../../../src/writer/spread.js';
import { FixedLimit } from '../../../src/writer/concurrency.js';
import type { WriteTarget } from '../../../src/writer/targets.js';

const batch = (lane: number, firstSeq: number, acceptedAt = firstSeq) => ({ lane, firstSeq, acceptedAt });

describe('lanes', () => {
  it('send one batch per lane at a time, in order within a lane, lanes taking turns', () => {
    const q = new LaneQueues<ReturnType<typeof batch>>(3);
    for (let i = 0; i < 9; i++) q.push(batch(i % 3, i));
    const first = [q.take(), q.take(), q.take()].map((b) => b!.firstSeq);
    expect(first).toEqual([0, 1, 2]);
    // Every lane has one out: nothing more until one is released.
    expect(q.take()).toBeUndefined();
    expect(q.sendable).toBe(false);
    q.release(1);
    expect(q.take()!.firstSeq).toBe(4);
    // A retry goes back to the head of its lane and is the next of that lane.
    q.unshift(batch(0, 0));
    q.release(0);
    expect(q.take()!.firstSeq).toBe(0);
    expect(q.size).toBe(5);
  });

  it('find the oldest batch, take what is due, and remove by predicate', () => {
    const q = new LaneQueues<ReturnType<typeof batch>>(2);
    q.push(batch(1, 5, 50));
    q.push(batch(0, 7, 70));
    q.push(batch(1, 9, 90));
    expect(q.oldest()!.firstSeq).toBe(5);
    expect(q.takeDue((b) => b.acceptedAt <= 60).map((b) => b.firstSeq)).toEqual([5]);
    expect(q.remove((b) => b.firstSeq === 9).map((b) => b.firstSeq)).toEqual([9]);
    expect([...q].map((b) => b.firstSeq)).toEqual([7]);
    expect(q.shiftOldest()!.firstSeq).toBe(7);
    expect(q.size).toBe(0);
  });
});

const target = (name: string): WriteTarget => ({ describe: name } as unknown as WriteTarget);

describe('spread over several servers', () => {
  it('gives each server batches in proportion to its speed', () => {
    const set = new TargetSet([target('a'), target('b')], [], () => new FixedLimit(8));
    const [a, b] = set.group;
    // b acknowledges three times as fast as a.
    set.acked(a!, 30, 3000, 1, 1);
    set.acked(b!, 10, 3000, 1, 1);
    const picks: Record<string, number> = { a: 0, b: 0 };
    for (let i = 0; i < 8; i++) {
      const s = set.pick(0)!;
      set.sent(s);
      picks[s.target.describe]!++;
    }
    expect(picks).toEqual({ a: 2, b: 6 });
  });

  it('leaves a failed server out until its backoff ends, then probes it with one request', () => {
    const set = new TargetSet([target('a'), target('b')], [], () => new FixedLimit(4));
    const [a, b] = set.group;
    expect(set.leaveOut(a!, 1000, 500)).toBe(true);
    for (let i = 0; i < 4; i++) set.sent(set.pick(1200)!);
    expect(b!.inFlight).toBe(4);
    expect(set.pick(1200)).toBeUndefined();
    expect(set.nextUpAt(1200)).toBe(1500);
    // Back: one request only, until it answers.
    expect(set.pick(1600)).toBe(a);
    set.sent(a!);
    expect(set.pick(1600)).toBeUndefined();
    set.answered(a!);
    set.acked(a!, 10, 1000, 1, 1);
    expect(a!.failures).toBe(0);
    // Both down: the writer's own backoff and failover apply.
    expect(set.leaveOut(a!, 2000, 100)).toBe(true);
    expect(set.leaveOut(b!, 2000, 100)).toBe(false);
  });

  it('probes a server whose backoff ended with the next batch, even when a faster one is idle', () => {
    const set = new TargetSet([target('a'), target('b')], [], () => new FixedLimit(4));
    const [a, b] = set.group;
    set.acked(a!, 100, 1000, 1, 1);
    set.acked(b!, 1, 1000, 1, 1);
    expect(set.leaveOut(a!, 1000, 500)).toBe(true);
    // Left out: b, idle and 100 times faster, takes everything.
    expect(set.pick(1200)).toBe(b);
    // Its backoff over: a takes the next batch, its probe, one at a time.
    expect(set.pick(1600)).toBe(a);
    set.sent(a!);
    expect(set.pick(1600)).toBe(b);
    // The probe failed: out again; acknowledged: back to its share by speed (b, idle and faster, first).
    set.answered(a!);
    expect(set.leaveOut(a!, 1700, 500)).toBe(true);
    expect(set.pick(1800)).toBe(b);
    expect(set.pick(2300)).toBe(a);
    set.sent(a!);
    set.answered(a!);
    set.acked(a!, 100, 1000, 1, 1);
    expect(set.pick(2400)).toBe(b);
  });

  it('with one server, leaves failures to the writer, and rotates through failover servers', () => {
    const set = new TargetSet([target('main')], [target('f1'), target('f2')], () => new FixedLimit(1));
    expect(set.leaveOut(set.group[0]!, 0, 100)).toBe(false);
    expect(set.current.target.describe).toBe('main');
    set.rotate();
    expect(set.current.target.describe).toBe('f1');
    expect(set.pick(0)!.target.describe).toBe('f1');
    set.rotate();
    set.rotate();
    expect(set.current.target.describe).toBe('main');
  });
});
