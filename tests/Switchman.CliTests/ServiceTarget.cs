using Switchman.Client;
using Switchman.Testing;
using Xunit.Abstractions;

namespace Switchman.CliTests;

/// <summary>
/// A node alone that supervises two services: <c>sleeper</c> (<c>/bin/sh -c 'echo hello-from-service; exec sleep
/// 600'</c>: prints a line, then runs until stopped) and <c>broken</c> (exits with code 1 after half a second, left
/// failed at its first exit; a program that exits at once, <c>/bin/false</c>, is a test of its own in
/// <see cref="ServiceCommandTests"/>). Its own data directory, so no other test's service output is in its logs. Disposing it stops the node, which
/// stops its services.
/// </summary>
internal sealed class ServiceTarget : IAsyncDisposable
{
    public const string Sleeper = "sleeper";

    public const string Broken = "broken";

    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(30);

    private readonly TempDirectory _directory;
    private bool _stopped;

    private ServiceTarget(TempDirectory directory, SwitchmanTestNode node)
    {
        _directory = directory;
        Node = node;
    }

    public SwitchmanTestNode Node { get; }

    /// <summary>Starts the node and returns at once (the services are starting).</summary>
    /// <param name="output">Where the node logs.</param>
    /// <param name="brokenCommand">broken's command, as a YAML list.</param>
    public static async Task<ServiceTarget> StartAsync(ITestOutputHelper output, string brokenCommand = """[/bin/sh, -c, "sleep 0.5; exit 1"]""")
    {
        var directory = new TempDirectory("switchman-services");
        try
        {
            var yaml = string.Join('\n', ["admin:", "  listen: 127.0.0.1:0", .. TestTokens.YamlLines()]) + "\n" + $"""
                data_dir: {directory.Combine("data")}
                services:
                  {Sleeper}:
                    command: [/bin/sh, -c, "echo hello-from-service; exec sleep 600"]
                    stop_timeout: 5s
                  {Broken}:
                    command: {brokenCommand}
                    migration_threshold: 1
                """ + "\n";
            var node = await SwitchmanTestNode.StartFromFileAsync(directory.WriteFile("switchman.yaml", yaml), output);
            return new ServiceTarget(directory, node);
        }
        catch
        {
            directory.Dispose();
            throw;
        }
    }

    /// <summary>Runs <c>switchman <paramref name="arguments"/></c> against this node with the admin token.</summary>
    public Task<CliResult> RunAsync(params string[] arguments) =>
        Cli.RunAsync([.. arguments, "--endpoint", Node.AdminUrl, "--token", TestTokens.AdminToken]);

    /// <summary>The service's one instance (on this node) as the API reports it now.</summary>
    public async Task<ServiceInstanceStatus?> InstanceAsync(string service)
    {
        using var client = new AdminClient(new AdminClientSettings(new Uri(Node.AdminUrl), TestTokens.AdminToken));
        return (await client.GetServiceAsync(service, CancellationToken.None)).Value.Instances.SingleOrDefault();
    }

    /// <summary>Waits until sleeper runs and broken has failed, and returns sleeper's instance.</summary>
    public async Task<ServiceInstanceStatus> SettledAsync()
    {
        await Await.UntilAsync(async () => (await InstanceAsync(Broken))?.State == ServiceInstanceStates.Failed, Timeout, "broken to be reported failed");
        return await RunningAsync(Sleeper);
    }

    /// <summary>Waits until <paramref name="service"/> is reported running, with a pid other than <paramref name="notPid"/>.</summary>
    public async Task<ServiceInstanceStatus> RunningAsync(string service, int? notPid = null)
    {
        ServiceInstanceStatus? instance = null;
        await Await.UntilAsync(
            async () => (instance = await InstanceAsync(service)) is { State: ServiceInstanceStates.Running, Pid: { } pid } && pid != notPid,
            Timeout, $"{service} to be reported running{(notPid is { } old ? $" with a pid other than {old}" : "")}");
        return instance!;
    }

    /// <summary>Stops the node (and with it its services); safe to call again from <see cref="DisposeAsync"/>.</summary>
    public async Task StopAsync()
    {
        if (!_stopped)
        {
            _stopped = true;
            await Node.DisposeAsync();
        }
    }

    public async ValueTask DisposeAsync()
    {
        await StopAsync();
        _directory.Dispose();
    }
}
