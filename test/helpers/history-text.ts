/**
 * Every string in a fetched workflow history, with payload bytes decoded: a plain JSON.stringify of the proto
 * object shows payloads as byte maps, in which a leaked token would not be found.
 */
export function historyTexts(history: unknown): string[] {
  const out: string[] = [];
  const walk = (v: unknown): void => {
    if (typeof v === 'string') out.push(v);
    else if (v instanceof Uint8Array) out.push(Buffer.from(v).toString('utf8'));
    else if (Array.isArray(v)) v.forEach(walk);
    else if (v && typeof v === 'object') Object.values(v).forEach(walk);
  };
  walk(history);
  return out;
}
