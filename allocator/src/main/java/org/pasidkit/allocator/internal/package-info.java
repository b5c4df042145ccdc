/**
 * Internals of the allocator: off-heap layouts ({@code *Descriptor}), the claim bitmap, the state table, the striped
 * caches and the reclaim queue. Not API.
 *
 * <h2>Memory-ordering vocabulary</h2>
 * <table>
 *   <caption>suffix to access mode</caption>
 *   <tr><th>name</th><th>access mode</th></tr>
 *   <tr><td>(none), {@code getLong}/{@code putLong}</td><td>plain: owner-only fields</td></tr>
 *   <tr><td>{@code *Opaque}</td><td>opaque: no tearing, no ordering (stolen-slot scans, hints)</td></tr>
 *   <tr><td>{@code *Acquire} / {@code get}</td><td>acquire load</td></tr>
 *   <tr><td>{@code *Release} / {@code putRelease}</td><td>release store; each names the acquire that reads it</td></tr>
 *   <tr><td>{@code *Volatile}</td><td>volatile (sequentially consistent); the epoch pin store is the protocol's
 *       StoreLoad fence</td></tr>
 *   <tr><td>{@code compareAndSet*}, {@code getAndAdd*}</td><td>atomic read-modify-write, volatile semantics</td></tr>
 * </table>
 */
package org.pasidkit.allocator.internal;
