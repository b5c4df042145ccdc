/**
 * The six baselines the benchmarks compare pasidkit against, each an {@link org.pasidkit.allocator.IdAllocator} over
 * {@code [minId, maxId]} ({@code 1 .. 2^20 - 1} in the benchmarks), created by {@link
 * org.pasidkit.bench.baseline.Baselines#create}. Each is correct and thread-safe, validates {@code free} (out of
 * range, double free: {@link java.lang.IllegalArgumentException}, nothing changed) and returns
 * {@link org.pasidkit.allocator.IdAllocator#EXHAUSTED} rather than throwing.
 *
 * <table>
 *   <caption>baselines</caption>
 *   <tr><th>name</th><th>class</th><th>what it models</th></tr>
 *   <tr><td>{@code locked-bitset}</td><td>{@link org.pasidkit.bench.baseline.LockedBitSetIdAllocator}</td>
 *       <td>Linux IDA / {@code idr_alloc_cyclic}: one lock, a bitmap, a rotating cursor</td></tr>
 *   <tr><td>{@code mpmc-queue}</td><td>{@link org.pasidkit.bench.baseline.MpmcQueueIdAllocator}</td>
 *       <td>a pre-filled JCTools MPMC free list, FIFO reuse</td></tr>
 *   <tr><td>{@code clq}</td><td>{@link org.pasidkit.bench.baseline.ConcurrentLinkedQueueIdAllocator}</td>
 *       <td>the JDK-only free list</td></tr>
 *   <tr><td>{@code atomic-bitmap}</td><td>{@link org.pasidkit.bench.baseline.AtomicBitmapIdAllocator}</td>
 *       <td>a naive CAS bitmap, one cursor shared by every thread</td></tr>
 *   <tr><td>{@code sbitmap}</td><td>{@link org.pasidkit.bench.baseline.SbitmapIdAllocator}</td>
 *       <td>Linux {@code sbitmap}: cache-line words, per-stripe hints, no id caching</td></tr>
 *   <tr><td>{@code tl-magazine}</td><td>{@link org.pasidkit.bench.baseline.ThreadLocalMagazineIdAllocator}</td>
 *       <td>thread-local magazines over a locked depot: fast, strands ids</td></tr>
 * </table>
 *
 * <h2>Memory-ordering vocabulary</h2>
 * <table>
 *   <caption>suffix to access mode</caption>
 *   <tr><th>name</th><th>access mode</th></tr>
 *   <tr><td>(none)</td><td>plain: fields guarded by a lock, owner-only fields, hints (a stale hint is harmless)</td></tr>
 *   <tr><td>{@code get} / {@code getVolatile} on atomics</td><td>volatile load</td></tr>
 *   <tr><td>{@code setRelease}</td><td>release store; each names the acquire or CAS that reads it</td></tr>
 *   <tr><td>{@code compareAndSet}</td><td>atomic read-modify-write, volatile semantics</td></tr>
 *   <tr><td>queue {@code offer} / {@code poll}</td><td>the queue's own happens-before: offer happens before the poll
 *       that returns the element</td></tr>
 * </table>
 */
package org.pasidkit.bench.baseline;
