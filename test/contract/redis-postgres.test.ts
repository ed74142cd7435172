/** The store contract on the scaled-out backends, against the real Redis and PostgreSQL of this machine. */
import { pgReachable, redisReachable, storesOnPlaces } from '../helpers/backends.ts';
import { storeContract } from './stores.contract.ts';

const [redisUp, pgUp] = await Promise.all([redisReachable(), pgReachable()]);

const backend = (useRedis: boolean, usePg: boolean) => storesOnPlaces(useRedis, usePg, 'lctest');

if (redisUp && pgUp) storeContract('Redis + PostgreSQL', backend(true, true));
if (redisUp) storeContract('Redis + embedded archive', backend(true, false));
if (pgUp) storeContract('embedded + PostgreSQL', backend(false, true));
