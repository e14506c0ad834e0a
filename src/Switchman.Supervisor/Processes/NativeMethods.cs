using System.Runtime.InteropServices;

namespace Switchman.Supervisor.Processes;

/// <summary>
/// The libc calls behind service processes (Linux, glibc). Spawning is done here rather than with
/// <see cref="System.Diagnostics.Process"/> because that class reports a child ended by a signal as exit code 128+n,
/// and operators need "killed by SIGKILL" told apart from "exited with code 137"; it reaps the child itself, so the
/// real wait status is lost. A child started with posix_spawn is one the runtime never reaps: we wait for it.
/// </summary>
internal static unsafe partial class NativeMethods
{
    public const int SignalKill = 9;
    public const int SignalTerm = 15;

    /// <summary>ESRCH: no process (or process group) with that id.</summary>
    public const int NoSuchProcess = 3;

    /// <summary>EINTR: interrupted by a signal; the call is made again.</summary>
    public const int Interrupted = 4;

    /// <summary>O_CLOEXEC for pipe2(2): no other child started meanwhile inherits our pipe ends.</summary>
    public const int CloseOnExec = 0x80000;

    /// <summary>O_RDONLY, for the child's standard input (/dev/null).</summary>
    public const int ReadOnly = 0;

    /// <summary>POSIX_SPAWN_SETSIGDEF: dispositions back to default (the runtime ignores SIGPIPE; a service must not inherit that).</summary>
    public const short SpawnSetSignalDefaults = 0x04;

    /// <summary>POSIX_SPAWN_SETSIGMASK: no signal blocked in the service, whatever the spawning thread blocks.</summary>
    public const short SpawnSetSignalMask = 0x08;

    /// <summary>POSIX_SPAWN_SETSID (glibc 2.26): the child calls setsid(), so it leads its own session and process group.</summary>
    public const short SpawnSetSession = 0x80;

    /// <summary>
    /// Bytes reserved for glibc's opaque posix_spawn_file_actions_t (80 on 64-bit), posix_spawnattr_t (336) and
    /// sigset_t (128): generous, since only glibc's init functions write them.
    /// </summary>
    public const int OpaqueSize = 1024;

    [LibraryImport("libc", EntryPoint = "posix_spawn")]
    public static partial int PosixSpawn(out int pid, byte* path, void* fileActions, void* attributes, byte** argv, byte** envp);

    [LibraryImport("libc", EntryPoint = "posix_spawn_file_actions_init")]
    public static partial int FileActionsInit(void* fileActions);

    [LibraryImport("libc", EntryPoint = "posix_spawn_file_actions_destroy")]
    public static partial int FileActionsDestroy(void* fileActions);

    [LibraryImport("libc", EntryPoint = "posix_spawn_file_actions_adddup2")]
    public static partial int FileActionsAddDup2(void* fileActions, int fd, int newFd);

    [LibraryImport("libc", EntryPoint = "posix_spawn_file_actions_addopen")]
    public static partial int FileActionsAddOpen(void* fileActions, int fd, byte* path, int flags, uint mode);

    /// <summary>glibc 2.29: the working directory, changed in the child before exec.</summary>
    [LibraryImport("libc", EntryPoint = "posix_spawn_file_actions_addchdir_np")]
    public static partial int FileActionsAddChdir(void* fileActions, byte* path);

    /// <summary>glibc 2.34: every descriptor from <paramref name="lowFd"/> up is closed in the child (nothing of ours leaks into a service).</summary>
    [LibraryImport("libc", EntryPoint = "posix_spawn_file_actions_addclosefrom_np")]
    public static partial int FileActionsAddCloseFrom(void* fileActions, int lowFd);

    [LibraryImport("libc", EntryPoint = "posix_spawnattr_init")]
    public static partial int AttributesInit(void* attributes);

    [LibraryImport("libc", EntryPoint = "posix_spawnattr_destroy")]
    public static partial int AttributesDestroy(void* attributes);

    [LibraryImport("libc", EntryPoint = "posix_spawnattr_setflags")]
    public static partial int AttributesSetFlags(void* attributes, short flags);

    [LibraryImport("libc", EntryPoint = "posix_spawnattr_setsigmask")]
    public static partial int AttributesSetSignalMask(void* attributes, void* signalSet);

    [LibraryImport("libc", EntryPoint = "posix_spawnattr_setsigdefault")]
    public static partial int AttributesSetSignalDefaults(void* attributes, void* signalSet);

    [LibraryImport("libc", EntryPoint = "sigemptyset")]
    public static partial int SignalSetEmpty(void* signalSet);

    [LibraryImport("libc", EntryPoint = "sigfillset")]
    public static partial int SignalSetFill(void* signalSet);

    [LibraryImport("libc", EntryPoint = "pipe2", SetLastError = true)]
    public static partial int Pipe2(int* fds, int flags);

    [LibraryImport("libc", EntryPoint = "close")]
    public static partial int Close(int fd);

    /// <summary>waitpid(2) for one child: blocks until it ends; <paramref name="status"/> is the raw wait status.</summary>
    [LibraryImport("libc", EntryPoint = "waitpid", SetLastError = true)]
    public static partial int WaitPid(int pid, out int status, int options);

    /// <summary>kill(2); a negative <paramref name="pid"/> is a process group.</summary>
    [LibraryImport("libc", EntryPoint = "kill", SetLastError = true)]
    public static partial int Kill(int pid, int signal);

    /// <summary>X_OK for <see cref="Access"/>.</summary>
    public const int ExecuteOk = 1;

    /// <summary>CLOCK_BOOTTIME: monotonic, and it also runs while the machine is suspended; /proc/uptime shows it.</summary>
    public const int ClockBootTime = 7;

    /// <summary>struct timespec (64-bit).</summary>
    [StructLayout(LayoutKind.Sequential)]
    public struct TimeSpec
    {
        public long Seconds;
        public long Nanoseconds;
    }

    [LibraryImport("libc", EntryPoint = "clock_gettime", SetLastError = true)]
    public static partial int ClockGetTime(int clock, out TimeSpec time);

    /// <summary>SCHED_FIFO: a real-time policy; a runnable thread of it runs before every ordinary (SCHED_OTHER) one.</summary>
    public const int SchedulerFifo = 1;

    /// <summary>sched_setscheduler(2) of another process (CAP_SYS_NICE, or an RLIMIT_RTPRIO that allows it); the priority is a struct of one int.</summary>
    [LibraryImport("libc", EntryPoint = "sched_setscheduler", SetLastError = true)]
    public static partial int SchedSetScheduler(int pid, int policy, in int priority);

    [LibraryImport("libc", EntryPoint = "access", StringMarshalling = StringMarshalling.Utf8)]
    public static partial int Access(string path, int mode);

    [LibraryImport("libc", EntryPoint = "getpwnam_r")]
    public static partial int GetPasswordEntryByName(byte* name, Passwd* entry, byte* buffer, nuint bufferLength, Passwd** result);

    [LibraryImport("libc", EntryPoint = "getpwuid_r")]
    public static partial int GetPasswordEntryById(uint uid, Passwd* entry, byte* buffer, nuint bufferLength, Passwd** result);

    /// <summary>struct passwd (glibc, 64-bit).</summary>
    [StructLayout(LayoutKind.Sequential)]
    public struct Passwd
    {
        public byte* Name;
        public byte* Password;
        public uint Uid;
        public uint Gid;
        public byte* Gecos;
        public byte* Home;
        public byte* Shell;
    }
}
