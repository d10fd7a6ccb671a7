// What the server needs to keep browsers signed in and to write the audit log; bound to the application
// layer (src/app/sessions.ts: PostgreSQL, shared by every replica) in ./app-binding.ts.
import type { AuditEntry } from '../db/audit';

export interface SessionUseCases {
  /** A new session; the id is the cookie's value (stored only as a digest). */
  create(account: string | null, subject: string): Promise<string>;
  get(id: string): Promise<{ account: string | null; subject: string } | undefined>;
  end(id: string): Promise<void>;
  /** A one-time sign-in code (not the API token): valid 15 minutes, used once, on any replica. */
  createLink(account: string | null, next: string): Promise<{ code: string; expiresAt: Date }>;
  redeemLink(code: string): Promise<{ account: string | null; next: string } | undefined>;
  audit(entry: AuditEntry): Promise<void>;
}
