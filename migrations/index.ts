import { CoreSchema1795350000000 } from './1795350000000-core-schema';

/** Every migration, oldest first. Listed by hand so the build and the tests load the same set. */
export const migrations = [CoreSchema1795350000000];
