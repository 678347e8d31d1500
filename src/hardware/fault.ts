/** The emulated hardware refused an event: applying it would break an invariant (DOMAIN.md I1-I9). */
export class HardwareFault extends Error {
  constructor(
    readonly invariant: string,
    message: string,
  ) {
    super(`${invariant}: ${message}`);
    this.name = 'HardwareFault';
  }
}
