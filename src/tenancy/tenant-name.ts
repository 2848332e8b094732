/** docs/api.md §8: tenant names. */
export const TENANT_NAME = /^[A-Za-z0-9._-]{1,64}$/;
