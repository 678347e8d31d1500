/** Formats and bounds of request fields, shared by the REST and gRPC DTOs. */

/** A PCI requester ID: domain:bus:device.function, lowercase hex, e.g. `0000:3b:00.1`. */
export const RID_PATTERN = /^[0-9a-f]{4}:[0-9a-f]{2}:[0-9a-f]{2}\.[0-7]$/;

/** Host, VM and mdev ids are chosen by callers: printable, no spaces or slashes (they go into paths). */
export const ID_PATTERN = /^[A-Za-z0-9][A-Za-z0-9._:-]*$/;
export const MAX_ID_LENGTH = 128;

/** Ids made by this service (fdId): UUIDs, any case. */
export const UUID_PATTERN = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** A guest-physical address: `0x` and hex digits of either case, at most 64 bits. */
export const GPA_PATTERN = /^0x[0-9a-fA-F]{1,16}$/;
export const PAGE_SIZE = 4096n;

/**
 * Numbers are int32 on the gRPC face, so this is the largest any request may carry;
 * whether a PASID or split fits a host is the domain's call (PASID_OUT_OF_RANGE, INVALID_RANGE).
 */
export const MAX_INT32 = 2 ** 31 - 1;

/** The widest PASID space (20 bits, DOMAIN.md). */
export const MAX_PASID_BITS = 20;

export const MAX_DEVICES_PER_HOST = 1024;
/** Reserved PASID ranges a host may list. */
export const MAX_RESERVED_RANGES = 256;
export const MAX_NAME_LENGTH = 200;
/** Of every paged list (hosts, fds, events). */
export const MAX_LIST_PAGE_SIZE = 1000;
export const MAX_PAGE_TOKEN_LENGTH = 512;
export const MAX_IDEMPOTENCY_KEY_LENGTH = 255;
