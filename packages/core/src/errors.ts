// User-facing failures: every problem a user can cause (bad config, bad data, bad checkpoint) is
// one of these, with a one-line message that names the problem; front ends print it without a stack.

/** A problem caused by the user's input, reported as one line with no stack trace. */
export class UserInputError extends Error {
  override readonly name = 'UserInputError';
  constructor(message: string) {
    super(message.replace(/\s*\n\s*/g, ' '));
  }
}

/** Invalid experiment configuration (unknown key, malformed or out-of-range value). */
export class ConfigError extends UserInputError {}

/** Malformed or inconsistent dataset bytes (IDX magic, dims, lengths, split sizes). */
export class DataError extends UserInputError {}

/** A checkpoint that cannot be used: not a checkpoint, truncated, corrupted, or from another run. */
export class CheckpointError extends UserInputError {}

/** True for errors whose message is meant for the user as-is. */
export function isUserInputError(e: unknown): e is UserInputError {
  return e instanceof UserInputError;
}
