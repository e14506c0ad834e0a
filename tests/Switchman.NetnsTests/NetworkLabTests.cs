using System.Net;
using System.Net.Sockets;
using Switchman.Testing;
using Switchman.Testing.Netns;

namespace Switchman.NetnsTests;

/// <summary>The lab itself: hosts reach each other over the switch, power-off silences a host, and nothing is left behind.</summary>
[Collection(NetworkLabCollection.Name)]
public sealed class NetworkLabTests
{
    /// <summary>Long enough for a LAN round trip many times over, short enough to keep the test quick.</summary>
    private static readonly TimeSpan NoAnswerWindow = TimeSpan.FromSeconds(1.5);

    private const int Port = 5000;

    [Fact]
    public async Task Hosts_and_the_operator_reach_each_other_over_the_switch()
    {
        await using var lab = await NetworkLab.CreateAsync(["h1", "h2"]);
        var (h1, h2) = (lab.Host("h1"), lab.Host("h2"));
        Assert.Equal(IPAddress.Parse("192.0.2.11"), h1.Address);
        Assert.Equal(IPAddress.Parse("192.0.2.12"), h2.Address);

        using var listener = await h1.Namespace.ListenAsync(h1.EndPoint(Port));
        await AssertEchoAsync(listener, h2, h1);
        await AssertEchoAsync(listener, lab.Operator, h1);
    }

    [Fact]
    public async Task A_powered_off_host_neither_accepts_nor_resets_and_answers_again_after_power_on()
    {
        await using var lab = await NetworkLab.CreateAsync(["h1", "h2"]);
        var (h1, h2) = (lab.Host("h1"), lab.Host("h2"));
        using var listener = await h1.Namespace.ListenAsync(h1.EndPoint(Port));
        // First a working connection, so h2 has h1's MAC cached: power-off must silence it all the same.
        await AssertEchoAsync(listener, h2, h1);

        await lab.PowerOffAsync(h1);
        await AssertNoAnswerAsync(h2, h1.EndPoint(Port));
        await AssertNoAnswerAsync(lab.Operator, h1.EndPoint(Port));
        // A closed port of a powered-off host does not answer either (a live host would reset at once).
        await AssertNoAnswerAsync(h2, h1.EndPoint(Port + 1));

        await lab.PowerOnAsync(h1);
        await AssertEchoAsync(listener, h2, h1);
    }

    [Fact]
    public async Task A_closed_port_of_a_running_host_is_refused_at_once()
    {
        // The contrast with power-off: what loopback tests see when a process dies.
        await using var lab = await NetworkLab.CreateAsync(["h1", "h2"]);
        using var timeout = new CancellationTokenSource(NoAnswerWindow);
        var refused = await Assert.ThrowsAsync<SocketException>(
            () => lab.Host("h2").Namespace.ConnectAsync(lab.Host("h1").EndPoint(Port), timeout.Token));
        Assert.Equal(SocketError.ConnectionRefused, refused.SocketErrorCode);
    }

    [Fact]
    public async Task A_process_started_in_a_host_runs_there_under_the_pid_we_got_and_freezes_and_thaws()
    {
        await using var lab = await NetworkLab.CreateAsync(["h1"]);
        var h1 = lab.Host("h1");
        var sleeper = await lab.StartProcessAsync(h1, "sleep", ["300"]);

        Assert.Equal("sleep", Path.GetFileName(File.ResolveLinkTarget($"/proc/{sleeper.Pid}/exe", returnFinalTarget: true)?.FullName));
        Assert.Contains(h1.Namespace.Name, await NamespacesOfAsync(sleeper.Pid));

        await lab.FreezeAsync(sleeper.Pid);
        Assert.Equal('T', ReadState(sleeper.Pid));
        await lab.ThawAsync(sleeper.Pid);
        Assert.NotEqual('T', ReadState(sleeper.Pid));
        await Assert.ThrowsAsync<InvalidOperationException>(() => lab.FreezeAsync(Environment.ProcessId));
    }

    [Fact]
    public async Task Dispose_ends_the_processes_and_removes_every_namespace()
    {
        var lab = await NetworkLab.CreateAsync(["h1", "h2"]);
        string[] namespaces = [lab.Switch.Name, .. lab.Hosts.Select(h => h.Namespace.Name), lab.Operator.Namespace.Name];
        Assert.All(namespaces, name => Assert.True(File.Exists($"/run/netns/{name}"), $"{name} should exist while the lab does"));
        var sleeper = await lab.StartProcessAsync(lab.Host("h1"), "sleep", ["300"]);

        await lab.DisposeAsync();

        Assert.False(Directory.Exists($"/proc/{sleeper.Pid}"), $"the process started in the lab (pid {sleeper.Pid}) should be killed and reaped");
        Assert.DoesNotContain(LabNamespaces(), name => name.StartsWith(lab.Id + "-", StringComparison.Ordinal));
    }

    [Fact]
    public async Task A_creation_cancelled_halfway_leaves_nothing_behind()
    {
        var ours = $"swl-{Environment.ProcessId}-";
        using var cancel = new CancellationTokenSource();
        // Twenty hosts take a few hundred ip commands: cancel as soon as the first namespace exists.
        var creating = NetworkLab.CreateAsync(Enumerable.Range(1, 20).Select(i => $"h{i}"), cancel.Token);
        await Await.UntilAsync(() => creating.IsCompleted || LabNamespaces().Any(n => n.StartsWith(ours, StringComparison.Ordinal)),
            TimeSpan.FromSeconds(30), "the lab's first namespace");
        cancel.Cancel();

        var outcome = await Record.ExceptionAsync(async () => await (await creating).DisposeAsync());

        Assert.IsAssignableFrom<OperationCanceledException>(outcome);
        Assert.DoesNotContain(LabNamespaces(), n => n.StartsWith(ours, StringComparison.Ordinal));
    }

    [Fact]
    public async Task Creation_removes_the_leftovers_of_a_crashed_run_and_the_processes_inside_them()
    {
        // A PID whose process is gone: what a crashed test run leaves as owner.
        int deadPid;
        await using (var gone = ChildProcess.Start("true", []))
        {
            await gone.WaitForExitAsync(TimeSpan.FromSeconds(10));
            deadPid = gone.Pid;
        }
        var leftover = $"swl-{deadPid}-1-h1";
        await RunIpAsync("netns", "add", leftover);
        await using var orphan = ChildProcess.Start(LabPrerequisites.RequireIp(), ["netns", "exec", leftover, "sleep", "300"]);

        await using (var lab = await NetworkLab.CreateAsync(["h1"]))
        {
            Assert.DoesNotContain(leftover, LabNamespaces());
            await orphan.WaitForExitAsync(TimeSpan.FromSeconds(10));
        }
    }

    [Fact]
    public void Missing_prerequisites_are_all_named()
    {
        var missing = LabPrerequisites.Missing(isRoot: false, ipPath: null);

        Assert.Equal(2, missing.Count);
        Assert.Contains(missing, m => m.StartsWith("root", StringComparison.Ordinal));
        Assert.Contains(missing, m => m.Contains("'ip'", StringComparison.Ordinal));
        Assert.Empty(LabPrerequisites.Missing(isRoot: true, ipPath: "/usr/sbin/ip"));
    }

    [Fact]
    public async Task Connections_to_addresses_outside_the_lab_are_refused_before_any_packet()
    {
        await using var lab = await NetworkLab.CreateAsync(["h1"]);
        await Assert.ThrowsAsync<ArgumentException>(() => lab.Operator.Namespace.ConnectAsync(new IPEndPoint(IPAddress.Parse("198.51.100.1"), 80)));
    }

    private static async Task AssertEchoAsync(Socket listener, LabHost from, LabHost to)
    {
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(10));
        using var client = await from.Namespace.ConnectAsync(to.EndPoint(Port), timeout.Token);
        using var accepted = await listener.AcceptAsync(timeout.Token);
        Assert.Equal(from.Address, ((IPEndPoint)accepted.RemoteEndPoint!).Address);
        await client.SendAsync(new byte[] { 42 }, timeout.Token);
        var buffer = new byte[1];
        Assert.Equal(1, await accepted.ReceiveAsync(buffer, timeout.Token));
        Assert.Equal(42, buffer[0]);
    }

    /// <summary>No accept and no reset within the window: the connect is still waiting when we give up.</summary>
    private static async Task AssertNoAnswerAsync(LabHost from, IPEndPoint to)
    {
        using var window = new CancellationTokenSource(NoAnswerWindow);
        var outcome = await Record.ExceptionAsync(async () =>
        {
            using var socket = await from.Namespace.ConnectAsync(to, window.Token);
        });
        Assert.True(outcome is OperationCanceledException,
            $"a connect from {from} to {to} should get no answer for {NoAnswerWindow.TotalSeconds} s, but: {outcome?.ToString() ?? "it was accepted"}");
    }

    private static IReadOnlyList<string> LabNamespaces() =>
        Directory.Exists("/run/netns") ? [.. Directory.EnumerateFiles("/run/netns").Select(Path.GetFileName).OfType<string>()] : [];

    private static char? ReadState(int pid)
    {
        var stat = File.ReadAllText($"/proc/{pid}/stat");
        return stat[stat.LastIndexOf(')') + 2];
    }

    private static async Task<string> NamespacesOfAsync(int pid)
    {
        await using var identify = ChildProcess.Start(LabPrerequisites.RequireIp(), ["netns", "identify", pid.ToString(System.Globalization.CultureInfo.InvariantCulture)]);
        await identify.WaitForExitAsync(TimeSpan.FromSeconds(10));
        return string.Join(' ', identify.StandardOutputLines);
    }

    private static async Task RunIpAsync(params string[] arguments)
    {
        await using var ip = ChildProcess.Start(LabPrerequisites.RequireIp(), arguments);
        Assert.True(await ip.WaitForExitAsync(TimeSpan.FromSeconds(10)) == 0, string.Join('\n', ip.StandardErrorLines));
    }
}
