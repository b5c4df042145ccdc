package org.pasidkit.tables;

/**
 * Called once per bond when its PASID's owner goes away. Called on the thread that caused the exit, after
 * {@link PasidSpace} released its control lock, so the listener may call back into the space (e.g. unbind). It must
 * not block on the exiting thread's progress: the kernel's synchronous mm_exit callback deadlocked exactly there.
 */
@FunctionalInterface
public interface ExitListener
{
    void onExit(ExitEvent event);
}
