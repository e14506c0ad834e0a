using System.Runtime.InteropServices;

namespace Switchman.Testing;

internal static partial class NativeMethods
{
    /// <summary>SIGTERM on Linux and macOS.</summary>
    public const int SigTerm = 15;

    /// <summary>SIGHUP on Linux: "reload your configuration" for daemons.</summary>
    public const int SigHup = 1;

    /// <summary>kill(2): .NET can only send SIGKILL to another process, and a graceful stop needs SIGTERM.</summary>
    [LibraryImport("libc", EntryPoint = "kill", SetLastError = true)]
    public static partial int Kill(int pid, int signal);
}
