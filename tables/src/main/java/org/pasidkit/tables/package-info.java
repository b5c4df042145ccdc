/**
 * PASID tables in native memory and the PASID life cycle: {@link org.pasidkit.tables.PasidSpace} (the facade),
 * the capabilities it hands out (devices, address spaces, standalone owners, bonds), handles, exit and revocation
 * events, fault attribution.
 *
 * <h2>Memory-ordering vocabulary</h2>
 * <table>
 *   <caption>suffix to access mode</caption>
 *   <tr><th>name</th><th>access mode</th></tr>
 *   <tr><td>{@code getLong}/{@code putLong}</td><td>plain: the single writer's own fields</td></tr>
 *   <tr><td>{@code *Opaque}</td><td>opaque: seq-validated reader loads; the writer's odd seq store</td></tr>
 *   <tr><td>{@code *Acquire}</td><td>acquire load (state word, seq, directory entry, driver-data leaf and cell,
 *       device)</td></tr>
 *   <tr><td>{@code *Release}</td><td>release store; each names the acquire that reads it</td></tr>
 *   <tr><td>{@code getAndIncrement} (StripedCounter)</td><td>atomic add on a per-thread stripe: statistics</td></tr>
 *   <tr><td>{@code storeStoreFence} / {@code loadLoadFence}</td><td>the seqlock's two fences</td></tr>
 *   <tr><td>volatile capability fields ({@code Bond.state}, {@code AddressSpace.exited}, {@code PasidOwner.closed},
 *       {@code Device.removed})</td><td>release store under the control lock; acquire load by any thread (a
 *       driver asking {@code Bond.isRevoked()}), and by the checks under the lock</td></tr>
 * </table>
 */
package org.pasidkit.tables;
