/**
 * Broken variants: copies of production concurrent code with one ordering or check removed, and the jcstress tests of
 * {@code org.pasidkit.stress} run against them. They must fail (FORBIDDEN outcomes): that is what proves the tests
 * can fail. They run only from the JUnit class {@code org.pasidkit.stress.BrokenVariantsTest} (one jcstress invocation
 * for all of them), never in the build's jcstress run. stress/BROKEN-VARIANTS.md maps each production test to its
 * broken variants.
 */
package org.pasidkit.stress.broken;
