/** The largest secret secretwrap accepts from any provider; larger answers are refused, not truncated. */
export const MAX_SECRET_BYTES = 1024 * 1024;

/** Linux caps one environment string (NAME=value) at 128 KiB (MAX_ARG_STRLEN). */
export const MAX_ENV_VALUE_BYTES = 128 * 1024 - 1;
