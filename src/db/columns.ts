// Column helpers: one definition for each kind of column that several tables share (./schema.ts and the
// tables it re-exports).
import { bigserial, integer, jsonb, numeric, timestamp } from 'drizzle-orm/pg-core';

export const money = (name: string) => numeric(name, { precision: 14, scale: 2 });
export const instant = (name: string) => timestamp(name, { withTimezone: true });
export const instantNow = (name: string) => instant(name).notNull().defaultNow();
export const count = (name: string) => integer(name).notNull().default(0);
export const serialId = () => bigserial('id', { mode: 'number' }).primaryKey();
export const storedError = (name: string) => jsonb(name).$type<{ type: string; message: string } | null>();
export const stamps = {
  createdAt: instantNow('created_at'),
  updatedAt: instantNow('updated_at'),
};
