using System.IO.Pipes;
using System.Runtime.InteropServices;
using System.Text;
using Microsoft.Win32.SafeHandles;

namespace Switchman.Supervisor.Processes;

/// <summary>A child just started: its PID (also its process group and session id) and the read ends of its stdout and stderr.</summary>
internal sealed record SpawnedChild(int Pid, AnonymousPipeClientStream Stdout, AnonymousPipeClientStream Stderr);

/// <summary>
/// Starts a <see cref="LaunchPlan"/> with posix_spawn(3) in a new session (so its process group id is its PID and the
/// whole tree can be signalled at once), with stdin on /dev/null, stdout and stderr on pipes of ours, default signal
/// dispositions, an empty signal mask, and no other descriptor of this process.
/// </summary>
internal static unsafe class Spawner
{
    /// <exception cref="ServiceStartException">The kernel refused (the error names the executable).</exception>
    public static SpawnedChild Spawn(LaunchPlan plan)
    {
        int stdoutRead = -1, stdoutWrite = -1, stderrRead = -1, stderrWrite = -1;
        var strings = new List<nint>();
        var fileActions = NativeMemory.AllocZeroed(NativeMethods.OpaqueSize);
        var attributes = NativeMemory.AllocZeroed(NativeMethods.OpaqueSize);
        var signals = NativeMemory.AllocZeroed(NativeMethods.OpaqueSize);
        try
        {
            (stdoutRead, stdoutWrite) = CreatePipe();
            (stderrRead, stderrWrite) = CreatePipe();
            Check(NativeMethods.FileActionsInit(fileActions), "posix_spawn_file_actions_init");
            Check(NativeMethods.AttributesInit(attributes), "posix_spawnattr_init");
            var devNull = Utf8("/dev/null", strings);
            Check(NativeMethods.FileActionsAddOpen(fileActions, 0, devNull, NativeMethods.ReadOnly, 0), "addopen");
            Check(NativeMethods.FileActionsAddDup2(fileActions, stdoutWrite, 1), "adddup2");
            Check(NativeMethods.FileActionsAddDup2(fileActions, stderrWrite, 2), "adddup2");
            Check(NativeMethods.FileActionsAddCloseFrom(fileActions, 3), "addclosefrom_np");
            Check(NativeMethods.FileActionsAddChdir(fileActions, Utf8(plan.WorkingDirectory, strings)), "addchdir_np");
            Check(NativeMethods.AttributesSetFlags(attributes, NativeMethods.SpawnSetSession | NativeMethods.SpawnSetSignalDefaults | NativeMethods.SpawnSetSignalMask), "setflags");
            NativeMethods.SignalSetFill(signals);
            Check(NativeMethods.AttributesSetSignalDefaults(attributes, signals), "setsigdefault");
            NativeMethods.SignalSetEmpty(signals);
            Check(NativeMethods.AttributesSetSignalMask(attributes, signals), "setsigmask");
            var argv = NullTerminated(plan.Argv, strings);
            var envp = NullTerminated(plan.Environment, strings);
            fixed (byte** argvPointer = argv)
            fixed (byte** envpPointer = envp)
            {
                var error = NativeMethods.PosixSpawn(out var pid, Utf8(plan.Executable, strings), fileActions, attributes, argvPointer, envpPointer);
                if (error != 0)
                {
                    throw new ServiceStartException($"{plan.Executable} could not be started: {Marshal.GetPInvokeErrorMessage(error)}");
                }
                return new SpawnedChild(pid, ReadEnd(stdoutRead), ReadEnd(stderrRead));
            }
        }
        catch
        {
            CloseIfOpen(stdoutRead);
            CloseIfOpen(stderrRead);
            throw;
        }
        finally
        {
            // Our copies of the write ends: the child has its own; once it (and its children) close theirs, we read EOF.
            CloseIfOpen(stdoutWrite);
            CloseIfOpen(stderrWrite);
            NativeMethods.FileActionsDestroy(fileActions);
            NativeMethods.AttributesDestroy(attributes);
            NativeMemory.Free(fileActions);
            NativeMemory.Free(attributes);
            NativeMemory.Free(signals);
            foreach (var pointer in strings)
            {
                NativeMemory.Free((void*)pointer);
            }
        }
    }

    private static void CloseIfOpen(int fd)
    {
        if (fd >= 0)
        {
            NativeMethods.Close(fd);
        }
    }

    private static (int Read, int Write) CreatePipe()
    {
        var fds = stackalloc int[2];
        if (NativeMethods.Pipe2(fds, NativeMethods.CloseOnExec) != 0)
        {
            throw new ServiceStartException($"no pipe for the service's output: {Marshal.GetPInvokeErrorMessage(Marshal.GetLastPInvokeError())}");
        }
        return (fds[0], fds[1]);
    }

    /// <summary>A pipe stream reads asynchronously on Unix (the runtime polls it like a socket): no thread waits on it.</summary>
    private static AnonymousPipeClientStream ReadEnd(int fd) => new(PipeDirection.In, new SafePipeHandle(fd, ownsHandle: true));

    private static byte*[] NullTerminated(IReadOnlyList<string> values, List<nint> strings)
    {
        var array = new byte*[values.Count + 1];
        for (var i = 0; i < values.Count; i++)
        {
            array[i] = Utf8(values[i], strings);
        }
        return array;
    }

    private static byte* Utf8(string value, List<nint> strings)
    {
        var length = Encoding.UTF8.GetByteCount(value);
        var pointer = (byte*)NativeMemory.Alloc((nuint)length + 1);
        strings.Add((nint)pointer);
        Encoding.UTF8.GetBytes(value, new Span<byte>(pointer, length));
        pointer[length] = 0;
        return pointer;
    }

    private static void Check(int error, string call)
    {
        if (error != 0)
        {
            throw new ServiceStartException($"{call} failed: {Marshal.GetPInvokeErrorMessage(error)}");
        }
    }
}
