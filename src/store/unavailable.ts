/**
 * A backing server (Redis, PostgreSQL) that cannot be reached is a 503 `service_unavailable`: LiveKit and
 * agent workers retry, and nothing half-done was acknowledged. Wrapped here, where the errors enter.
 */
import { AppError } from '../errors.ts';

export function unavailable(what: string, err: unknown): AppError {
  if (err instanceof AppError) return err;
  return new AppError('service_unavailable', `${what} is unavailable; try again`, { cause: err });
}

/** Wraps every method of a store so backend failures surface as `service_unavailable`. */
export function guard<T extends object>(what: string, store: T): T {
  return new Proxy(store, {
    get(target, prop, receiver) {
      const value: unknown = Reflect.get(target, prop, receiver);
      if (typeof value !== 'function') return value;
      return async (...args: unknown[]) => {
        try {
          return await (value as (...a: unknown[]) => Promise<unknown>).apply(target, args);
        } catch (err) {
          throw unavailable(what, err);
        }
      };
    },
  });
}
