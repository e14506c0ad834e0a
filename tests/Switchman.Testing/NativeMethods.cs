using System.Runtime.InteropServices;
using Microsoft.Win32.SafeHandles;

namespace Switchman.Testing;

internal static partial class NativeMethods
{
    /// <summary>SIGTERM on Linux and macOS.</summary>
    public const int SigTerm = 15;

    /// <summary>SIGHUP on Linux: "reload your configuration" for daemons.</summary>
    public const int SigHup = 1;

    /// <summary>SIGKILL on Linux.</summary>
    public const int SigKill = 9;

    /// <summary>SIGSTOP on Linux (x86 and ARM): the process stops until SIGCONT, as a paused VM or a long GC stall would.</summary>
    public const int SigStop = 19;

    /// <summary>SIGCONT on Linux (x86 and ARM).</summary>
    public const int SigCont = 18;

    /// <summary>CLONE_NEWNET: the namespace type for <see cref="SetNs"/>.</summary>
    public const int CloneNewNet = 0x40000000;

    /// <summary>kill(2): .NET can only send SIGKILL to another process, and a graceful stop needs SIGTERM.</summary>
    [LibraryImport("libc", EntryPoint = "kill", SetLastError = true)]
    public static partial int Kill(int pid, int signal);

    /// <summary>setns(2): moves the calling thread (only that thread) into the namespace <paramref name="namespaceFile"/> refers to.</summary>
    [LibraryImport("libc", EntryPoint = "setns", SetLastError = true)]
    public static partial int SetNs(SafeFileHandle namespaceFile, int namespaceType);
}
