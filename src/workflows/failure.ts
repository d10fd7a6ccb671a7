import { ActivityFailure, ApplicationFailure } from '@temporalio/workflow';
import type { ErrorInfo } from '../shared';

/** The failure's own type and message: an activity failure carries them in its ApplicationFailure cause. */
export function failureInfo(err: unknown): ErrorInfo {
  const cause = err instanceof ActivityFailure ? err.cause : err;
  if (cause instanceof ApplicationFailure) return { type: cause.type ?? 'Error', message: cause.message };
  if (cause instanceof Error) return { type: cause.name, message: cause.message };
  return { type: 'Error', message: String(cause) };
}
