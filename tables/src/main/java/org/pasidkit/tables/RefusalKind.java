package org.pasidkit.tables;

/**
 * Why {@link PasidSpace} refused a life-cycle call: the capability the caller presented does not authorise it.
 * Every refusal is counted per kind ({@link PasidSpaceCounts#refusals(RefusalKind)}) and changes nothing.
 */
public enum RefusalKind
{
    /** The capability is real and current but belongs to someone else (another owner, address space or space). */
    FOREIGN,
    /** The capability was never issued: a handle naming a life its PASID never had, an out-of-range PASID. */
    FORGED,
    /**
     * The capability was valid once: a handle of an earlier life, a bond already unbound, a closed owner, an exited
     * address space, a removed device.
     */
    STALE,
    /** The bond was revoked (its driver missed the unbind deadline, or its device was removed). */
    REVOKED;

    static final RefusalKind[] VALUES = values();
}
