import { expect } from 'vitest';
import { AppError } from '../../src/app';

/** The AppError a promise rejects with (fails the test if it resolves or rejects with something else). */
export async function appErrorOf(p: Promise<unknown>): Promise<AppError> {
  const outcome = await p.then(
    (value: unknown) => ({ resolved: value }),
    (error: unknown) => ({ error }),
  );
  expect(outcome).not.toHaveProperty('resolved');
  const { error } = outcome as { error: unknown };
  expect(error).toBeInstanceOf(AppError);
  return error as AppError;
}
