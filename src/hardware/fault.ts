/**
 * The invariants of DOMAIN.md that the hardware checks on its own as it applies events. I8
 * (quotas) is not among them: quota values are tenant configuration, absent from the events,
 * so the decider alone enforces it.
 */
export const HARDWARE_INVARIANTS = ['I1', 'I2', 'I3', 'I4', 'I5', 'I6', 'I7', 'I9'] as const;
export type HardwareInvariant = (typeof HARDWARE_INVARIANTS)[number];

/**
 * Faults that break no invariant but the event's (or snapshot's) own consistency: it names
 * what is not there, creates what already is, or is malformed. A decider never emits one.
 */
export const STRUCTURAL_FAULTS = ['unknown-host', 'unknown-fd', 'unknown-ioasid', 'unknown-rid', 'conflict', 'malformed-event', 'malformed-snapshot'] as const;
export type StructuralFault = (typeof STRUCTURAL_FAULTS)[number];

const INVARIANT_NAMES: ReadonlySet<string> = new Set(HARDWARE_INVARIANTS);

/** The emulated hardware refused an event (or a snapshot); it changed nothing. */
export class HardwareFault extends Error {
  /** The invariant the event would break; undefined for a structural fault. */
  readonly invariant: HardwareInvariant | undefined;
  /** What is structurally wrong; undefined for an invariant fault. */
  readonly structural: StructuralFault | undefined;

  constructor(rule: HardwareInvariant | StructuralFault, message: string) {
    super(`${rule}: ${message}`);
    this.name = 'HardwareFault';
    const invariant = INVARIANT_NAMES.has(rule);
    this.invariant = invariant ? (rule as HardwareInvariant) : undefined;
    this.structural = invariant ? undefined : (rule as StructuralFault);
  }
}
