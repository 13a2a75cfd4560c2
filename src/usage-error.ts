/** The command line itself is wrong: the CLI exits with 2, as for an unknown flag. */
export class UsageError extends Error {}
