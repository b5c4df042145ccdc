/**
 * Broken variants: copies of production concurrent code with one ordering or check removed, and the jcstress tests of
 * {@code org.pasidkit.stress} run against them. They must fail (FORBIDDEN outcomes): that is what proves the tests
 * can fail. They run only from the JUnit classes {@code BrokenVariantsTest} / {@code BrokenTableVariantsTest}, never
 * in the build's jcstress run.
 */
package org.pasidkit.stress.broken;
