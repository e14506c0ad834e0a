using System.Text.Json;
using Switchman.Testing;
using Xunit.Abstractions;

namespace Switchman.CliTests;

/// <summary><c>switchman service …</c> and the services section of <c>switchman status</c>, against a node that runs real processes.</summary>
public sealed class ServiceCommandTests(ITestOutputHelper output) : IAsyncLifetime
{
    private ServiceTarget _node = null!;

    public async Task InitializeAsync() => _node = await ServiceTarget.StartAsync(output);

    public async Task DisposeAsync() => await _node.DisposeAsync();

    [Fact]
    public async Task List_RunningInstanceWithItsPid_FailedInstanceWithItsProblem()
    {
        var sleeper = await _node.SettledAsync();

        var result = await _node.RunAsync("service", "list");

        Assert.True(result.ExitCode == 0, result.ToString());
        Assert.Matches(@"^│ Service +│ Node +│ State +│ +PID │ Uptime │ Failures │ Last failure +│$", Assert.Single(result.Output, l => l.StartsWith("│ Service ", StringComparison.Ordinal)));
        Assert.Matches($@"^│ sleeper +│ {sleeper.Node} +│ running +│ +{sleeper.Pid} │ +\d+[smhd]( \d+[smh])? │ +0 │ - +│$", Row(result, ServiceTarget.Sleeper));
        Assert.Matches($@"^│ broken +│ {sleeper.Node} +│ failed +│ +- │ +- │ +1 │ exited with code 1 \(\d{{4}}-\d\d-\d\d \d\d:\d\d:\d\dZ\) +│$", Row(result, ServiceTarget.Broken));
        Assert.Contains(
            $"service broken on {sleeper.Node}: exited with code 1; 1 failures reached migration_threshold 1: left stopped here until cleanup",
            result.Output);
        Assert.DoesNotContain('\u001b', result.StandardOutput);
        Assert.All(result.Output, line => Assert.True(line.Length <= 120, $"line longer than 120 columns: {line}"));
    }

    [Fact]
    public async Task Restart_GivesANewPid_AndTheOldProcessIsGone()
    {
        var before = await _node.SettledAsync();

        var result = await _node.RunAsync("service", "restart", ServiceTarget.Sleeper);

        Assert.True(result.ExitCode == 0, result.ToString());
        Assert.Equal($"{before.Node}: restart ordered", result.Output[0]);
        var after = await _node.RunningAsync(ServiceTarget.Sleeper, notPid: before.Pid);
        var list = await _node.RunAsync("service", "list");
        Assert.Matches($@"^│ sleeper +│ {before.Node} +│ running +│ +{after.Pid} │", Row(list, ServiceTarget.Sleeper));
        Assert.False(IsSleeping(before.Pid!.Value), $"the old process {before.Pid} still runs");
    }

    [Fact]
    public async Task RestartRolling_PrintsEachStep()
    {
        var before = await _node.SettledAsync();

        var result = await _node.RunAsync("service", "restart", ServiceTarget.Sleeper, "--rolling");

        Assert.True(result.ExitCode == 0, result.ToString());
        Assert.Equal("restarting sleeper one node at a time; each waits for its instance to come back…", result.Output[0]);
        Assert.Matches($@"^{before.Node}: restarted \(pid {before.Pid} → (\d+)\), its monitor passed after \d+ (ms|s)$", result.Output[1]);
        var newPid = System.Text.RegularExpressions.Regex.Match(result.Output[1], @"→ (\d+)\)").Groups[1].Value;
        Assert.Matches($@"^│ sleeper +│ {before.Node} +│ running +│ +{newPid} │", Row(result, ServiceTarget.Sleeper));
    }

    [Fact]
    public async Task Stop_ListShowsStoppedAndWhoStoppedIt_StartRunsItAgain()
    {
        var before = await _node.SettledAsync();

        var stop = await _node.RunAsync("service", "stop", ServiceTarget.Sleeper);
        var list = await _node.RunAsync("service", "list");

        Assert.True(stop.ExitCode == 0, stop.ToString());
        Assert.Equal("sleeper stopped", stop.Output[0]);
        Assert.Matches($@"^│ sleeper +│ {before.Node} +│ stopped +│ +- │ +- │ +0 │ - +│$", Row(stop, ServiceTarget.Sleeper));
        Assert.True(list.ExitCode == 0, list.ToString());
        Assert.Matches($@"^│ sleeper +│ {before.Node} +│ stopped +│ +- │", Row(list, ServiceTarget.Sleeper));
        Assert.Contains("service sleeper: stopped by ops; `switchman service start sleeper` starts it again", list.Output);
        Assert.DoesNotContain(list.Output, l => l.StartsWith("service sleeper on ", StringComparison.Ordinal));
        Assert.False(IsSleeping(before.Pid!.Value), $"the stopped process {before.Pid} still runs");

        var start = await _node.RunAsync("service", "start", ServiceTarget.Sleeper);

        Assert.True(start.ExitCode == 0, start.ToString());
        Assert.Equal("sleeper started", start.Output[0]);
        Assert.Matches($@"^│ sleeper +│ {before.Node} +│ running +│ +\d+ │", Row(start, ServiceTarget.Sleeper));
        Assert.DoesNotContain(start.Output, l => l.Contains("stopped by", StringComparison.Ordinal));
    }

    [Fact]
    public async Task Cleanup_ForgetsTheFailures_OnTheNodeNamed()
    {
        var sleeper = await _node.SettledAsync();

        var result = await _node.RunAsync("service", "cleanup", ServiceTarget.Broken, "--node", sleeper.Node);
        var unknownNode = await _node.RunAsync("service", "cleanup", ServiceTarget.Broken, "--node", "nosuch");

        Assert.True(result.ExitCode == 0, result.ToString());
        Assert.Equal($"failures of broken forgotten on {sleeper.Node}", result.Output[0]);
        Assert.Matches($@"^│ broken +│ {sleeper.Node} +│", Row(result, ServiceTarget.Broken));
        Assert.True(unknownNode.ExitCode == 1, unknownNode.ToString());
        Assert.Equal($"switchman: node 'nosuch' reports no instance of service broken; nodes with one: {sleeper.Node}", unknownNode.StandardError);
    }

    [Fact]
    public async Task Logs_ShowTheLastLineTheServicePrinted()
    {
        await _node.SettledAsync();

        var result = await _node.RunAsync("service", "logs", ServiceTarget.Sleeper, "--lines", "5");

        Assert.True(result.ExitCode == 0, result.ToString());
        Assert.Matches(@"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z stdout hello-from-service$", result.Output[^1]);
    }

    [Fact]
    public async Task Restart_UnknownService_Exit1_NamesTheKnownServices()
    {
        var result = await _node.RunAsync("service", "restart", "ghost");

        Assert.True(result.ExitCode == 1, result.ToString());
        Assert.Equal("switchman: there is no service 'ghost'; services: sleeper, broken", result.StandardError);
        Assert.Empty(result.Output);
    }

    [Fact]
    public async Task Status_ShowsTheServicesSection_JsonIsTheApiDocument()
    {
        var sleeper = await _node.SettledAsync();

        var status = await _node.RunAsync("status");
        var json = await _node.RunAsync("service", "status", ServiceTarget.Sleeper, "-o", "json");

        Assert.True(status.ExitCode == 0, status.ToString());
        var lines = status.Output.ToList();
        Assert.True(lines.IndexOf("Services") > 0 && lines.IndexOf("Services") < lines.IndexOf("Frontends"), status.ToString());
        Assert.Matches($@"^│ sleeper +│ {sleeper.Node} +│ running +│ +{sleeper.Pid} │", Row(status, ServiceTarget.Sleeper));
        Assert.Matches($@"^│ broken +│ {sleeper.Node} +│ failed +│ +- │ +- │ +1 │ exited with code 1 ", Row(status, ServiceTarget.Broken));
        Assert.True(json.ExitCode == 0, json.ToString());
        using var document = JsonDocument.Parse(json.StandardOutput);
        var instance = Assert.Single(document.RootElement.GetProperty("instances").EnumerateArray());
        Assert.Equal(("running", sleeper.Pid), (instance.GetProperty("state").GetString(), instance.GetProperty("pid").GetInt32()));
    }

    [Fact]
    public async Task StoppingTheNode_StopsEveryServiceProcess()
    {
        var sleeper = await _node.SettledAsync();
        var restarted = await _node.RunAsync("service", "restart", ServiceTarget.Sleeper);
        Assert.True(restarted.ExitCode == 0, restarted.ToString());
        var after = await _node.RunningAsync(ServiceTarget.Sleeper, notPid: sleeper.Pid);
        Assert.True(IsSleeping(after.Pid!.Value), $"process {after.Pid} is not the sleeper");

        await _node.StopAsync();

        Assert.False(IsSleeping(sleeper.Pid!.Value), $"process {sleeper.Pid} outlived the node");
        Assert.False(IsSleeping(after.Pid!.Value), $"process {after.Pid} outlived the node");
    }

    [Fact]
    public async Task List_ProgramThatExitsAtOnce_ShownFailedWithItsProblem()
    {
        await using var node = await ServiceTarget.StartAsync(output, brokenCommand: "[/bin/false]");
        var sleeper = await node.SettledAsync();

        var result = await node.RunAsync("service", "list");

        Assert.True(result.ExitCode == 0, result.ToString());
        Assert.Matches($@"^│ broken +│ {sleeper.Node} +│ failed +│ +- │ +- │ +1 │ exited with code 1 ", Row(result, ServiceTarget.Broken));
    }

    /// <summary>The table row of <paramref name="service"/> (there is one instance: this node's).</summary>
    private static string Row(CliResult result, string service) =>
        Assert.Single(result.Output, l => l.StartsWith($"│ {service} ", StringComparison.Ordinal));

    /// <summary>Whether process <paramref name="pid"/> exists and is a <c>sleep</c> (a pid reused by something else does not count).</summary>
    private static bool IsSleeping(int pid)
    {
        try
        {
            return File.ReadAllText($"/proc/{pid}/cmdline").Split('\0').Contains("sleep");
        }
        catch (IOException)
        {
            return false;
        }
    }
}
