/** The host has no event in the source at all. */
export class UnknownHostError extends Error {
  override readonly name = 'UnknownHostError';
}

/** The requested version or time lies outside the host's stream. */
export class ReplayTargetError extends Error {
  override readonly name = 'ReplayTargetError';
}
