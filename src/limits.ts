/** The largest secret secretwrap accepts from any provider; larger answers are refused, not truncated. */
export const MAX_SECRET_BYTES = 1024 * 1024;

/** Linux caps one argument or NAME=value string, its NUL included, at 32 pages of 4 KiB (MAX_ARG_STRLEN). */
export const MAX_ARG_STRLEN = 32 * 4096;

/** The longest NAME=value string an environment variable can be (MAX_ARG_STRLEN less the NUL). */
export const MAX_ENV_VALUE_BYTES = MAX_ARG_STRLEN - 1;
