package org.pasidkit.tables;

import java.util.ArrayList;
import java.util.Collections;
import java.util.List;

/** What one {@link IommuModel} issued and checked: a snapshot, immutable once returned by {@link IommuModel#counts}. */
public final class IommuCounts
{
    /** Phase index: {@link IommuModel#bind}. */
    public static final int BIND = 0;
    /** Phase index: {@link IommuModel#invalidateRange}. */
    public static final int CHANGE = 1;
    /** Phase index: {@link IommuModel#release}. */
    public static final int RELEASE = 2;
    /** Phase index: {@link IommuModel#unbind}. */
    public static final int UNBIND = 3;
    /** Phase index: {@link IommuModel#servicePageRequests}. */
    public static final int SERVICE = 4;
    public static final int PHASES = 5;
    public static final List<String> PHASE_NAMES =
        Collections.unmodifiableList(List.of("bind", "change", "release", "unbind", "page-request service"));

    final IommuArch arch;
    final List<String> commandNames;
    final long[][] commandsByPhaseAndType;
    final long[] bytesByPhase = new long[PHASES];
    final long[] waitsByPhase = new long[PHASES];
    long tableBytesTouched;
    long binds;
    long rangeInvalidations;
    long releases;
    long unbinds;
    long deviceTlbInvalidationsInChanges;
    long pageRequestsQueued;
    long pageRequestsServiced;
    long pageRequestsDrained;
    long pageRequestsDropped;
    long violations;
    final List<String> firstViolations = new ArrayList<>();

    IommuCounts(final IommuArch arch, final List<String> commandNames)
    {
        this.arch = arch;
        this.commandNames = List.copyOf(commandNames);
        this.commandsByPhaseAndType = new long[PHASES][commandNames.size()];
    }

    IommuCounts copy()
    {
        final IommuCounts c = new IommuCounts(arch, commandNames);
        for (int p = 0; p < PHASES; p++)
        {
            System.arraycopy(commandsByPhaseAndType[p], 0, c.commandsByPhaseAndType[p], 0, commandNames.size());
            c.bytesByPhase[p] = bytesByPhase[p];
            c.waitsByPhase[p] = waitsByPhase[p];
        }
        c.tableBytesTouched = tableBytesTouched;
        c.binds = binds;
        c.rangeInvalidations = rangeInvalidations;
        c.releases = releases;
        c.unbinds = unbinds;
        c.deviceTlbInvalidationsInChanges = deviceTlbInvalidationsInChanges;
        c.pageRequestsQueued = pageRequestsQueued;
        c.pageRequestsServiced = pageRequestsServiced;
        c.pageRequestsDrained = pageRequestsDrained;
        c.pageRequestsDropped = pageRequestsDropped;
        c.violations = violations;
        c.firstViolations.addAll(firstViolations);
        return c;
    }

    public IommuArch arch()
    {
        return arch;
    }

    /** The command types of this architecture, in the order {@link #commands(int, int)} indexes them. */
    public List<String> commandNames()
    {
        return commandNames;
    }

    /** Commands of {@code type} (index into {@link #commandNames}) issued in {@code phase}. */
    public long commands(final int phase, final int type)
    {
        return commandsByPhaseAndType[phase][type];
    }

    /** Commands of {@code type} over every phase. */
    public long commandsOfType(final int type)
    {
        long n = 0;
        for (int p = 0; p < PHASES; p++)
        {
            n += commandsByPhaseAndType[p][type];
        }
        return n;
    }

    /** Commands (waits and syncs included) issued in {@code phase}. */
    public long commandsInPhase(final int phase)
    {
        long n = 0;
        for (final long c : commandsByPhaseAndType[phase])
        {
            n += c;
        }
        return n;
    }

    public long commands()
    {
        long n = 0;
        for (int p = 0; p < PHASES; p++)
        {
            n += commandsInPhase(p);
        }
        return n;
    }

    /** Bytes written to the command queue in {@code phase}. */
    public long bytesQueued(final int phase)
    {
        return bytesByPhase[phase];
    }

    public long bytesQueued()
    {
        long n = 0;
        for (final long b : bytesByPhase)
        {
            n += b;
        }
        return n;
    }

    /** Waits (VT-d invalidation wait, SMMUv3 CMD_SYNC, AMD-Vi COMPLETION_WAIT) issued in {@code phase}. */
    public long waits(final int phase)
    {
        return waitsByPhase[phase];
    }

    public long waits()
    {
        long n = 0;
        for (final long w : waitsByPhase)
        {
            n += w;
        }
        return n;
    }

    /** Bytes of table memory (directories, entries, device-table entries) the driver stored. */
    public long tableBytesTouched()
    {
        return tableBytesTouched;
    }

    public long binds()
    {
        return binds;
    }

    /** {@link IommuModel#invalidateRange} calls (one per PASID of a changed address space). */
    public long rangeInvalidations()
    {
        return rangeInvalidations;
    }

    public long releases()
    {
        return releases;
    }

    public long unbinds()
    {
        return unbinds;
    }

    /** Device-TLB (ATC) invalidations the IOMMU consumed during changes: the generic model's ATC count. */
    public long deviceTlbInvalidationsInChanges()
    {
        return deviceTlbInvalidationsInChanges;
    }

    public long pageRequestsQueued()
    {
        return pageRequestsQueued;
    }

    public long pageRequestsServiced()
    {
        return pageRequestsServiced;
    }

    /** Page requests answered (as the driver answers requests of a PASID going away) by a teardown. */
    public long pageRequestsDrained()
    {
        return pageRequestsDrained;
    }

    public long pageRequestsDropped()
    {
        return pageRequestsDropped;
    }

    public long violations()
    {
        return violations;
    }

    public List<String> firstViolations()
    {
        return Collections.unmodifiableList(firstViolations);
    }
}
