using Switchman.Supervisor.Processes;
using Switchman.Testing;

namespace Switchman.Supervisor.Tests;

/// <summary>
/// The services one test starts, in a directory of its own; disposal ends every one of them (its whole process group,
/// by pgid) and deletes the directory, whatever the test did.
/// </summary>
internal sealed class Services : IAsyncDisposable
{
    public static readonly TimeSpan Patience = TimeSpan.FromSeconds(10);

    private readonly List<ServiceProcess> _started = [];
    private readonly List<int> _groups = [];

    public TempDirectory Directory { get; } = new("switchman-supervisor");

    public string LogOf(string name) => Directory.Combine($"logs/{name}.log");

    public ProcessSpec Spec(string name, params string[] argv) =>
        new(name, argv, new Dictionary<string, string>(), WorkingDirectory: null, User: null, LogOf(name));

    public ServiceProcess Start(ProcessSpec spec, ServiceProcessOptions? options = null)
    {
        var process = ServiceProcess.Start(spec, TimeProvider.System, options);
        _started.Add(process);
        Track(process.Pid);
        return process;
    }

    /// <summary>A process group started some other way, to be killed at the end too.</summary>
    public void Track(int pgid) => _groups.Add(pgid);

    /// <summary>Waits until the log of <paramref name="name"/> has a line containing <paramref name="text"/>.</summary>
    public Task LogContainsAsync(string name, string text) =>
        Await.UntilAsync(() => File.Exists(LogOf(name)) && File.ReadAllText(LogOf(name)).Contains(text, StringComparison.Ordinal),
            Patience, $"'{text}' in the log of {name}");

    public static Task GroupEmptyAsync(int pgid) =>
        Await.UntilAsync(() => ProcessGroup.LiveMembers(pgid).Count == 0, Patience, $"no living process in group {pgid}");

    public static bool IsAlive(int pid) => ProcessGroup.ReadStat(pid) is { State: not 'Z' };

    public async ValueTask DisposeAsync()
    {
        foreach (var process in _started)
        {
            await process.DisposeAsync();
        }
        foreach (var pgid in _groups)
        {
            if (ProcessGroup.LiveMembers(pgid).Count > 0)
            {
                ProcessGroup.Signal(pgid, 9);
            }
        }
        Directory.Dispose();
    }
}

/// <summary>A test class whose tests start services: each test gets its own <see cref="Services"/>, ended after it.</summary>
public abstract class ServicesTest : IAsyncLifetime
{
    internal Services Services { get; } = new();

    public virtual Task InitializeAsync() => Task.CompletedTask;

    public virtual async Task DisposeAsync() => await Services.DisposeAsync();
}
