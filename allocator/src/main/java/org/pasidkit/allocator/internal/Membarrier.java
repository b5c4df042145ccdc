package org.pasidkit.allocator.internal;

import com.sun.jna.LastErrorException;
import com.sun.jna.Native;
import com.sun.jna.Platform;

/**
 * {@code membarrier(2)} through JNA direct mapping of libc's {@code syscall(2)} (no proxy, no per-call allocation).
 * Loaded only by {@code AsymmetricFence}'s start-up probe, which catches every failure and falls back to fences.
 *
 * <h2>Assumptions and guarantees</h2>
 * <ul>
 *   <li>Threading: every method is safe from any thread (each is one system call).</li>
 *   <li>Progress: {@link #privateExpedited} blocks in the kernel until every CPU running a thread of this process has
 *       executed a full memory barrier (an IPI each); microseconds, never indefinitely.</li>
 *   <li>Allocation: none per call (JNA direct mapping passes the {@code long}s by value).</li>
 * </ul>
 */
/*
 * Design notes.
 * - syscall(2) is variadic in C; it is bound here as syscall(long, long, long, long). On the SysV x86-64 and the
 *   Linux AArch64 ABIs integer arguments of a variadic call travel in the same registers as a fixed call, and glibc's
 *   syscall is an assembly stub that reads them from there (x86-64's %al vector count is an upper bound it ignores).
 * - The system call numbers are the kernel's (arch/x86/entry/syscalls/syscall_64.tbl: 324;
 *   include/uapi/asm-generic/unistd.h, used by arm64: 283). Other architectures get no number: the probe then
 *   reports the fenced path.
 */
public final class Membarrier
{
    /** MEMBARRIER_CMD_QUERY: the supported commands as a bit mask. */
    public static final int CMD_QUERY = 0;
    /** MEMBARRIER_CMD_PRIVATE_EXPEDITED. */
    public static final int CMD_PRIVATE_EXPEDITED = 1 << 3;
    /** MEMBARRIER_CMD_REGISTER_PRIVATE_EXPEDITED: once per process, before the first private expedited barrier. */
    public static final int CMD_REGISTER_PRIVATE_EXPEDITED = 1 << 4;

    private static final long SYSCALL_NUMBER = syscallNumber();

    static
    {
        if (SYSCALL_NUMBER < 0)
        {
            throw new UnsupportedOperationException("membarrier: no system call number for os.arch " +
                System.getProperty("os.arch") + " on " + System.getProperty("os.name"));
        }
        Native.register(Membarrier.class, Platform.C_LIBRARY_NAME);
    }

    private Membarrier()
    {
    }

    private static long syscallNumber()
    {
        if (!Platform.isLinux())
        {
            return -1;
        }
        if (Platform.isIntel() && Platform.is64Bit())
        {
            return 324;
        }
        if (Platform.isARM() && Platform.is64Bit())
        {
            return 283;
        }
        return -1;
    }

    private static native long syscall(long number, long cmd, long flags, long cpuId) throws LastErrorException;

    /**
     * @return the kernel's answer: a bit mask of commands for {@link #CMD_QUERY}, 0 on success.
     * @throws LastErrorException with the errno when the kernel refuses (EINVAL, EPERM under seccomp, ...).
     */
    public static long call(final int cmd)
    {
        return syscall(SYSCALL_NUMBER, cmd, 0, 0);
    }

    /**
     * One private expedited barrier (the process must have registered).
     *
     * @throws LastErrorException with the errno when the kernel refuses.
     */
    public static void privateExpedited()
    {
        syscall(SYSCALL_NUMBER, CMD_PRIVATE_EXPEDITED, 0, 0);
    }
}
