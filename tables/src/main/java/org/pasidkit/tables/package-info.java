/**
 * PASID tables in native memory and the PASID life cycle (owners, bind, unbind, exit, driver data, faults).
 *
 * <p>Not built yet: this module is the place for issue 4. It depends on {@code pasidkit-allocator} only.</p>
 */
package org.pasidkit.tables;
