using System.Diagnostics;

namespace Switchman.Vips;

/// <summary>What a tool run printed and how it ended.</summary>
public sealed record ToolResult(int ExitCode, string Output, string Error)
{
    public bool Succeeded => ExitCode == 0;
}

/// <summary>
/// How this node runs the network tools it needs: <c>ip</c> (iproute2) to add and remove addresses, <c>arping</c>
/// (iputils) to announce them. On a host, the tools themselves; in a network namespace (the tests' hosts), the same
/// tools aimed at it. Each run is bounded in time.
/// </summary>
public sealed class NetworkTools
{
    private static readonly TimeSpan RunLimit = TimeSpan.FromSeconds(10);

    private readonly IReadOnlyList<string> _ip;
    private readonly IReadOnlyList<string> _arping;
    private readonly TimeProvider _time;

    /// <param name="ip">The command line that runs <c>ip</c>, without its arguments (e.g. <c>["ip"]</c>).</param>
    /// <param name="arping">The command line that runs <c>arping</c>, without its arguments.</param>
    public NetworkTools(IReadOnlyList<string> ip, IReadOnlyList<string> arping, TimeProvider time)
    {
        ArgumentOutOfRangeException.ThrowIfZero(ip.Count);
        ArgumentOutOfRangeException.ThrowIfZero(arping.Count);
        _ip = ip;
        _arping = arping;
        _time = time;
    }

    /// <summary>The tools of this host's own network namespace.</summary>
    public static NetworkTools OnHost(TimeProvider time) => new(["ip"], ["arping"], time);

    /// <summary>The tools aimed at the named network namespace (<c>ip -n</c>, <c>ip netns exec</c>).</summary>
    public static NetworkTools InNamespace(string name, TimeProvider time) =>
        new(["ip", "-n", name], ["ip", "netns", "exec", name, "arping"], time);

    public Task<ToolResult> IpAsync(IEnumerable<string> arguments, CancellationToken cancellationToken) =>
        RunAsync([.. _ip, .. arguments], cancellationToken);

    /// <summary>The command line that runs <c>ip</c> (with its namespace or privilege prefix), for a helper that outlives this process.</summary>
    public IReadOnlyList<string> IpCommandLine => _ip;

    public TimeProvider Time => _time;

    public Task<ToolResult> ArpingAsync(IEnumerable<string> arguments, CancellationToken cancellationToken) =>
        RunAsync([.. _arping, .. arguments], cancellationToken);

    private async Task<ToolResult> RunAsync(IReadOnlyList<string> commandLine, CancellationToken cancellationToken)
    {
        var start = new ProcessStartInfo(commandLine[0])
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        foreach (var argument in commandLine.Skip(1))
        {
            start.ArgumentList.Add(argument);
        }
        using var limit = new CancellationTokenSource(RunLimit, _time);
        using var run = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken, limit.Token);
        Process process;
        try
        {
            process = Process.Start(start) ?? throw new VipHostException($"{commandLine[0]} could not be started");
        }
        catch (System.ComponentModel.Win32Exception e)
        {
            throw new VipHostException($"{commandLine[0]} is not installed or cannot run ({e.Message}): install {PackageOf(commandLine[0])}");
        }
        using (process)
        {
            var output = process.StandardOutput.ReadToEndAsync(run.Token);
            var error = process.StandardError.ReadToEndAsync(run.Token);
            try
            {
                await process.WaitForExitAsync(run.Token).ConfigureAwait(false);
                return new ToolResult(process.ExitCode, await output.ConfigureAwait(false), await error.ConfigureAwait(false));
            }
            catch (OperationCanceledException)
            {
                process.Kill(entireProcessTree: true);
                await process.WaitForExitAsync(CancellationToken.None).ConfigureAwait(false);
                if (cancellationToken.IsCancellationRequested)
                {
                    throw;
                }
                throw new VipHostException($"{string.Join(' ', commandLine)} did not finish within {RunLimit.TotalSeconds:0}s");
            }
        }
    }

    private static string PackageOf(string tool) => tool switch
    {
        "arping" => "iputils-arping",
        _ => "iproute2",
    };
}

/// <summary>A VIP could not be added, removed or announced on this node; the message names the cause in one line.</summary>
public sealed class VipHostException(string message) : Exception(message);
