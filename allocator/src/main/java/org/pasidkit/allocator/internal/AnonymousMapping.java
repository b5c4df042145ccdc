package org.pasidkit.allocator.internal;

import com.sun.jna.LastErrorException;
import com.sun.jna.Native;
import com.sun.jna.Platform;

/**
 * Anonymous private memory from {@code mmap(2)} through JNA direct mapping of libc: zero-filled, and committed by the
 * kernel page by page on its first write (reads of a page never written map the shared zero page and commit nothing).
 * A table sized for a whole range then costs memory only where it is used, and an address computes as {@code base +
 * offset}, with no page lookup. Linux only; {@link IdStateTable} falls back to an eagerly zeroed direct buffer when
 * this class cannot load or the kernel refuses.
 *
 * <h2>Assumptions and guarantees</h2>
 * <ul>
 *   <li>Threading: every method is safe from any thread (each is one system call).</li>
 *   <li>Progress: each call is one system call; no blocking beyond the kernel's.</li>
 *   <li>Allocation: none per call (JNA direct mapping passes the {@code long}s and {@code int}s by value).</li>
 * </ul>
 */
/*
 * Design notes.
 * - The constants are Linux's for x86-64 and AArch64 alike (include/uapi/asm-generic/mman-common.h and mman.h):
 *   PROT_READ 1, PROT_WRITE 2, MAP_PRIVATE 2, MAP_ANONYMOUS 0x20, MAP_NORESERVE 0x4000. Other systems get no mapping.
 * - MAP_NORESERVE: no swap is reserved up front, so a 2^20-id table reserves address space only; the pages written
 *   are committed as any other anonymous memory.
 * - A pointer is passed as a long: both ABIs pass a 64-bit integer and a pointer in the same registers.
 */
public final class AnonymousMapping
{
    private static final int PROT_READ = 1;
    private static final int PROT_WRITE = 2;
    private static final int MAP_PRIVATE = 2;
    private static final int MAP_ANONYMOUS = 0x20;
    private static final int MAP_NORESERVE = 0x4000;
    private static final long MAP_FAILED = -1;

    static
    {
        if (!Platform.isLinux() || !Platform.is64Bit() || !(Platform.isIntel() || Platform.isARM()))
        {
            throw new UnsupportedOperationException("anonymous mappings: Linux on x86-64 or AArch64 only, not " +
                System.getProperty("os.name") + " on " + System.getProperty("os.arch"));
        }
        Native.register(AnonymousMapping.class, Platform.C_LIBRARY_NAME);
    }

    private AnonymousMapping()
    {
    }

    private static native long mmap(long address, long length, int prot, int flags, int fd, long offset)
        throws LastErrorException;

    private static native int munmap(long address, long length) throws LastErrorException;

    /**
     * Maps {@code lengthBytes} of zero-filled private memory, readable and writable, page-aligned.
     *
     * @return the address.
     * @throws LastErrorException with the errno when the kernel refuses (ENOMEM, EPERM under seccomp, ...).
     */
    public static long map(final long lengthBytes)
    {
        final long address = mmap(0, lengthBytes, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE,
            -1, 0);
        if (MAP_FAILED == address || 0 == address)
        {
            throw new IllegalStateException("mmap of " + lengthBytes + " bytes returned " + address);
        }
        return address;
    }

    /** Unmaps what {@link #map} returned; the memory must not be touched afterwards. */
    public static void unmap(final long address, final long lengthBytes)
    {
        munmap(address, lengthBytes);
    }
}
