import { describe, expect, it } from 'vitest';
import { SlidingWindow, TokenChecksPausedError, TokenRejectionBreaker } from '../../src/server/token-checks';

describe('token check limits', () => {
  it('allows `limit` hits per key in the window and says how long to wait for the next', () => {
    let now = 0;
    const w = new SlidingWindow(3, 60_000, () => now);
    for (let i = 0; i < 3; i++) expect(w.hit('a')).toBeNull();
    now = 10_000;
    expect(w.hit('a')).toBe(50);
    expect(w.hit('b')).toBeNull();
    now = 60_001;
    expect(w.hit('a')).toBeNull();
  });

  it('pauses token checks when sevDesk rejected many different tokens in a short time, then admits again', () => {
    let now = 0;
    const b = new TokenRejectionBreaker(3, 60_000, 120_000, () => now);
    b.rejectedToken('t1');
    b.rejectedToken('t1'); // the same token again is one token
    b.rejectedToken('t2');
    expect(() => b.admit()).not.toThrow();
    now = 70_000; // t1 and t2 aged out
    b.rejectedToken('t3');
    b.rejectedToken('t4');
    expect(b.open).toBe(false);
    b.rejectedToken('t5');
    expect(b.open).toBe(true);
    expect(() => b.admit()).toThrow(TokenChecksPausedError);
    try {
      b.admit();
    } catch (err) {
      expect((err as TokenChecksPausedError).retryAfterSeconds).toBe(120);
      expect((err as Error).message).not.toMatch(/t5/);
    }
    now = 70_000 + 120_001;
    expect(() => b.admit()).not.toThrow();
  });
});
