/**
 * The PASID allocator: {@link org.pasidkit.allocator.PasidAllocator}, {@link org.pasidkit.allocator.EpochDomain},
 * {@link org.pasidkit.allocator.ReclaimAgent}. Exports the API package only; the helpers in
 * {@code org.pasidkit.allocator.internal} stay unexported.
 */
module org.pasidkit.allocator {
    // Transitive: the API shows Agrona types (ReclaimAgent is an Agent, PasidAllocator.Builder takes a NanoClock).
    requires transitive org.agrona;
    requires org.jctools.core;
    // JCTools queues need sun.misc.Unsafe, but org.jctools.core requires jdk.unsupported only `static`: on the module
    // path it is not resolved unless some module requires it (on the class path every system module is).
    requires jdk.unsupported;
    // JNA (automatic module com.sun.jna) reaches membarrier(2) for AsymmetricFence's heavy side on Java 17.
    requires com.sun.jna;

    exports org.pasidkit.allocator;
}
