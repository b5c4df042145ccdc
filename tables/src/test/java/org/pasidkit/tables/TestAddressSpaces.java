package org.pasidkit.tables;

import java.util.Collections;
import java.util.HashMap;
import java.util.Map;
import java.util.WeakHashMap;

/** Tests play every process: the address-space capability of id {@code mm} in a space, opened on first use. */
final class TestAddressSpaces
{
    private static final Map<PasidSpace, Map<Long, AddressSpace>> OPENED =
        Collections.synchronizedMap(new WeakHashMap<>());

    private TestAddressSpaces()
    {
    }

    /** The open capability of {@code mm} in {@code space}; a new one once the last exited. */
    static synchronized AddressSpace mm(final PasidSpace space, final long mm)
    {
        final Map<Long, AddressSpace> of = OPENED.computeIfAbsent(space, k -> new HashMap<>());
        AddressSpace as = of.get(mm);
        if (null == as || as.hasExited())
        {
            as = space.openAddressSpace(mm);
            of.put(mm, as);
        }
        return as;
    }
}
