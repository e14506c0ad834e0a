using System.Runtime.InteropServices;

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

    /// <summary>kill(2): .NET can only send SIGKILL to another process, and a graceful stop needs SIGTERM.</summary>
    [LibraryImport("libc", EntryPoint = "kill", SetLastError = true)]
    public static partial int Kill(int pid, int signal);
}
