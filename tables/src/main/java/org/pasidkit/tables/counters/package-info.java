/**
 * Counters another process can read: {@link org.pasidkit.tables.counters.PasidkitCounters} (a memory-mapped file
 * holding an Agrona {@code CountersManager}, as Aeron's CnC file), {@link org.pasidkit.tables.counters.CountersPublisher}
 * (an Agrona {@code Agent} that copies a space's, an allocator's and invalidators' counts into it, so the hot paths
 * pay nothing) and {@link org.pasidkit.tables.counters.CountersFile} (the reader {@code ./pasidkit stat} uses).
 *
 * <h2>Memory-ordering vocabulary</h2>
 * <table>
 *   <caption>suffix to access mode</caption>
 *   <tr><th>name</th><th>access mode</th></tr>
 *   <tr><td>{@code put*} / {@code get*}</td><td>plain: the header and records before the magic is published</td></tr>
 *   <tr><td>{@code putLongRelease} / {@code getLongAcquire}</td><td>the magic (written last), the heartbeat, the
 *       status</td></tr>
 *   <tr><td>{@code AtomicCounter.setRelease} / {@code getCounterValue} (volatile)</td><td>counter values</td></tr>
 * </table>
 */
package org.pasidkit.tables.counters;
