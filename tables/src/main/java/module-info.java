/**
 * PASID tables and the PASID life cycle: {@link org.pasidkit.tables.PasidSpace},
 * {@link org.pasidkit.tables.AtcInvalidator}, {@link org.pasidkit.tables.SimulatedIommu}. Exports the API package
 * only; the helpers in {@code org.pasidkit.tables.internal} stay unexported.
 */
module org.pasidkit.tables {
    // Transitive: the API shows allocator types (PasidSpace.allocator(), epochDomain(); PasidSpaceCounts.allocator()).
    requires transitive org.pasidkit.allocator;
    // Transitive: the API shows Agrona types (SimulatedIommu is a MessageHandler).
    requires transitive org.agrona;
    requires org.jctools.core;

    exports org.pasidkit.tables;
    exports org.pasidkit.tables.counters;
    // The counters file's start time of this process (ProcessHandle is java.base; RuntimeMXBean is the fallback).
    requires java.management;
}
