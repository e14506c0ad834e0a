using System.Runtime.InteropServices;

namespace Switchman.Testing;

internal static partial class NativeMethods
{
    /// <summary>SIGTERM on Linux and macOS.</summary>
    public const int SigTerm = 15;

    /// <summary>SIGHUP on Linux: "reload your configuration" for daemons.</summary>
    public const int SigHup = 1;

    /// <summary>SIGSTOP on Linux x86-64 and arm64: stop (freeze) the process; cannot be caught.</summary>
    public const int SigStop = 19;

    /// <summary>SIGCONT on Linux x86-64 and arm64: resume a stopped process.</summary>
    public const int SigCont = 18;

    /// <summary>kill(2): .NET can only send SIGKILL to another process, and a graceful stop needs SIGTERM.</summary>
    [LibraryImport("libc", EntryPoint = "kill", SetLastError = true)]
    public static partial int Kill(int pid, int signal);
}
