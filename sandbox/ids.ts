import { hash32 } from './random';

/**
 * Maps a dense object index to a sparse, ascending numeric id and back. Real sevDesk ids come from a global
 * sequence shared by all accounts, so one account's ids have gaps; the jitter below imitates that while
 * keeping ids ascending in index order (which makes "ascending id" the natural default order).
 */
export class IdSpace {
  private readonly seed: number;
  private readonly stream: number;
  private readonly base: number;
  private readonly stride: number;

  constructor({
    seed,
    stream,
    base,
    stride,
  }: {
    seed: number;
    stream: number;
    base: number;
    stride: number;
  }) {
    this.seed = seed;
    this.stream = stream;
    this.base = base;
    this.stride = stride;
  }

  id(index: number): string {
    return String(this.numeric(index));
  }

  numeric(index: number): number {
    const jitter = this.stride > 1 ? hash32(this.seed, this.stream, index) % this.stride : 0;
    return this.base + index * this.stride + jitter;
  }

  /** The index of an id, or undefined when the id is not one this space hands out. */
  index(id: string | number): number | undefined {
    const text = String(id);
    if (!/^\d{1,15}$/.test(text)) return undefined;
    const n = Number(text);
    const index = Math.floor((n - this.base) / this.stride);
    if (index < 0) return undefined;
    return this.numeric(index) === n ? index : undefined;
  }
}
