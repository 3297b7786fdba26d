/**
 * Resource options of what holds or seals data Pulumi must never delete (the state bucket, secrets and image keys,
 * the DR ledger and its key): protected against `pulumi up` replacing or removing it, and left in place by
 * `pulumi destroy` (retainOnDelete), so retiring a stack or an account bootstrap loses nothing.
 */
export const KEEP = { protect: true, retainOnDelete: true } as const;
