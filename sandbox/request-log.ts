export interface RequestLogEntry {
  method: string;
  path: string;
  query: Record<string, string>;
  /** HTTP status sent; 0 while unanswered (e.g. an injected hang). */
  status: number;
  /** Arrival time, ms since the epoch. */
  at: number;
}

/**
 * The API requests the sandbox received, newest last, bounded to the last `capacity` entries. Headers are
 * never recorded: the Authorization header carries the token.
 */
export class RequestLog {
  private readonly capacity: number;
  private readonly ring: RequestLogEntry[] = [];
  private next = 0;
  private total = 0;

  constructor(capacity = 10_000) {
    this.capacity = capacity;
  }

  /** Records a request and returns its entry, whose status the server fills in when it answers. */
  record(entry: Omit<RequestLogEntry, 'status'>): RequestLogEntry {
    const full: RequestLogEntry = { ...entry, status: 0 };
    if (this.ring.length < this.capacity) this.ring.push(full);
    else this.ring[this.next] = full;
    this.next = (this.next + 1) % this.capacity;
    this.total++;
    return full;
  }

  /** Number of requests since the start or the last reset (not bounded by the capacity). */
  count(): number {
    return this.total;
  }

  entries(): RequestLogEntry[] {
    const ordered =
      this.ring.length < this.capacity
        ? this.ring
        : [...this.ring.slice(this.next), ...this.ring.slice(0, this.next)];
    return ordered.map((e) => ({ ...e, query: { ...e.query } }));
  }

  reset(): void {
    this.ring.length = 0;
    this.next = 0;
    this.total = 0;
  }
}
