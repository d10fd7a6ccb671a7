// Poison records: raw wire fields served over the real ones, for tests and the fault campaign.

/** Objects whose wire fields can be poisoned (see SandboxStore.setPoison). */
export const POISON_OBJECTS = ['Invoice', 'Contact', 'CommunicationWay', 'ContactAddress'] as const;
export type PoisonObject = (typeof POISON_OBJECTS)[number];

export class PoisonRecords {
  private readonly poison = new Map<string, Record<string, unknown>>();

  /** Serves `fields` over one object's wire values until cleared (`null`); the stored data is unchanged. */
  set(objectName: PoisonObject, id: string, fields: Record<string, unknown> | null): void {
    if (fields === null) this.poison.delete(`${objectName}:${id}`);
    else this.poison.set(`${objectName}:${id}`, { ...fields });
  }

  clear(): void {
    this.poison.clear();
  }

  list(): { objectName: string; id: string; fields: Record<string, unknown> }[] {
    return [...this.poison].map(([key, fields]) => {
      const at = key.indexOf(':');
      return { objectName: key.slice(0, at), id: key.slice(at + 1), fields };
    });
  }

  /** The object as served: `wire` itself when not poisoned, else a copy with the poison over it. */
  apply<T extends { id: string }>(objectName: PoisonObject, wire: T): T {
    if (this.poison.size === 0) return wire;
    const fields = this.poison.get(`${objectName}:${wire.id}`);
    return fields ? ({ ...wire, ...fields } as T) : wire;
  }
}
