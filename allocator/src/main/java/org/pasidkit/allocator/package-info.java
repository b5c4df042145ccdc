/**
 * The PASID allocator: {@link org.pasidkit.allocator.PasidAllocator} (off-heap bitmap, per-CPU caches, epoch reclaim),
 * {@link org.pasidkit.allocator.EpochDomain} (reader critical sections), {@link org.pasidkit.allocator.ReclaimAgent}.
 *
 * <h2>Memory-ordering vocabulary</h2>
 * <table>
 *   <caption>suffix to access mode</caption>
 *   <tr><th>name</th><th>access mode</th></tr>
 *   <tr><td>(none), {@code getLong}/{@code putLong}</td><td>plain: owner-only fields</td></tr>
 *   <tr><td>{@code *Opaque}</td><td>opaque: no tearing, no ordering (stolen-slot scans, hints)</td></tr>
 *   <tr><td>{@code *Acquire} / {@code get}</td><td>acquire load</td></tr>
 *   <tr><td>{@code *Release} / {@code putRelease}</td><td>release store; each names the acquire that reads it</td></tr>
 *   <tr><td>{@code *Volatile}</td><td>volatile (sequentially consistent): the epoch advance's scans of the pin
 *       words</td></tr>
 *   <tr><td>{@code compareAndSet*}, {@code getAndAdd*}</td><td>atomic read-modify-write, volatile semantics (on x86 a
 *       locked instruction: a full fence)</td></tr>
 *   <tr><td>{@code VarHandle.fullFence()}</td><td>a full (StoreLoad) fence: the epoch advance with no registered
 *       reader; both sides of {@link org.pasidkit.allocator.AsymmetricFence} in its FENCED mode</td></tr>
 *   <tr><td>{@link org.pasidkit.allocator.AsymmetricFence#light() AsymmetricFence.light()}</td><td>the frequent side of
 *       an asymmetric Dekker pattern, between its store and its load: a compiler barrier
 *       ({@code VarHandle.acquireFence()}) in MEMBARRIER mode, a full fence in FENCED mode. The epoch pin: an opaque
 *       store of the pin word, then {@code light()}</td></tr>
 *   <tr><td>{@link org.pasidkit.allocator.AsymmetricFence#heavy() AsymmetricFence.heavy()}</td><td>the rare side:
 *       {@code membarrier(MEMBARRIER_CMD_PRIVATE_EXPEDITED)} (every CPU running a thread of this process executes a
 *       full barrier) in MEMBARRIER mode, a full fence in FENCED mode. The epoch advance, before the scan that
 *       decides</td></tr>
 * </table>
 * <p>The mode is chosen once per process ({@link org.pasidkit.allocator.AsymmetricFence#mode()}; force FENCED with
 * {@code -Dpasidkit.fence=fenced}). A light side pairs only with a heavy side: two light sides (two racing frees, two
 * readers) are not ordered by it, which is why every free keeps its CAS.</p>
 */
package org.pasidkit.allocator;
