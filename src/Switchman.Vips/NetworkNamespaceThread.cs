using System.ComponentModel;
using Microsoft.Win32.SafeHandles;

namespace Switchman.Vips;

/// <summary>
/// Creates something (a socket) from inside a named network namespace. A socket belongs to the namespace it was created
/// in for its whole life, so only its creation needs to happen in there: a short-lived thread of its own enters the
/// namespace (setns moves only the calling thread, which Linux allows in a multi-threaded process for network
/// namespaces), creates the socket and ends. Never a pool thread: one left in the namespace would carry it into
/// unrelated work.
/// </summary>
public static class NetworkNamespaceThread
{
    /// <summary>Runs <paramref name="create"/> on a new thread inside the namespace at <paramref name="namespacePath"/> (<c>/run/netns/NAME</c>).</summary>
    /// <exception cref="InvalidOperationException">The namespace cannot be entered (it does not exist, or this process may not).</exception>
    public static Task<T> CreateInsideAsync<T>(string namespacePath, Func<T> create)
    {
        ArgumentException.ThrowIfNullOrEmpty(namespacePath);
        ArgumentNullException.ThrowIfNull(create);
        var created = new TaskCompletionSource<T>(TaskCreationOptions.RunContinuationsAsynchronously);
        var thread = new Thread(() => CreateInside(namespacePath, create, created)) { IsBackground = true, Name = $"netns {Path.GetFileName(namespacePath)}" };
        thread.Start();
        return created.Task;
    }

    private static void CreateInside<T>(string namespacePath, Func<T> create, TaskCompletionSource<T> created)
    {
        try
        {
            // The thread ends right after, but it goes home first anyway: no thread is ever left in another namespace,
            // whatever the runtime does with its threads.
            using var home = File.OpenHandle("/proc/thread-self/ns/net", FileMode.Open, FileAccess.Read);
            using (var target = OpenNamespace(namespacePath))
            {
                Enter(target, namespacePath);
            }
            try
            {
                created.SetResult(create());
            }
            finally
            {
                Enter(home, "of this process");
            }
        }
        catch (Exception e)
        {
            // Whatever it is, it belongs to the caller, who awaits the task; a thread's unhandled exception ends the process.
            created.TrySetException(e);
        }
    }

    private static SafeFileHandle OpenNamespace(string namespacePath)
    {
        try
        {
            return File.OpenHandle(namespacePath, FileMode.Open, FileAccess.Read);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new InvalidOperationException($"Could not open network namespace {namespacePath}: {e.Message}", e);
        }
    }

    private static void Enter(SafeFileHandle namespaceFile, string name)
    {
        if (NativeMethods.SetNs(namespaceFile, NativeMethods.CloneNewNet) != 0)
        {
            var error = new Win32Exception();
            throw new InvalidOperationException($"Could not enter network namespace {name} (setns): {error.Message}", error);
        }
    }
}
