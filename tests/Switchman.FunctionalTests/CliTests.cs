using System.Net;
using System.Text.RegularExpressions;
using Switchman.Testing;

namespace Switchman.FunctionalTests;

/// <summary>The real executable: <c>switchman check</c> and <c>switchman run</c>, as an operator types them.</summary>
public class CliTests
{
    private static readonly TimeSpan ExitTimeout = TimeSpan.FromSeconds(30);

    public static TheoryData<string> BrokenConfigs()
    {
        var data = new TheoryData<string>();
        foreach (var file in Directory.GetFiles(Path.Combine(AppContext.BaseDirectory, "BrokenConfigs"), "*.yaml").Order())
        {
            data.Add(Path.GetFileName(file));
        }
        return data;
    }

    [Theory]
    [MemberData(nameof(BrokenConfigs))]
    public async Task Check_BrokenFile_Exit1_AndNamesFileLineAndField(string fileName)
    {
        var path = Path.Combine("BrokenConfigs", fileName);
        var expectation = ExpectationOf(Path.Combine(AppContext.BaseDirectory, path));

        await using var check = SwitchmanExecutable.Start(["check", "-c", path], new ChildProcessOptions { WorkingDirectory = AppContext.BaseDirectory });
        var exitCode = await check.WaitForExitAsync(ExitTimeout);

        Assert.Equal(1, exitCode);
        var errors = string.Join('\n', check.StandardErrorLines);
        // e.g. "BrokenConfigs/rise-below-one.yaml:12:7 backends.api.health.rise: must be ≥ 1"
        var located = expectation.Path.Length > 0 ? $"{path}:{expectation.Location} {expectation.Path}:" : $"{path}:{expectation.Location}:";
        Assert.Contains(located, errors, StringComparison.Ordinal);
        Assert.Contains(expectation.Message, errors, StringComparison.Ordinal);
        Assert.Contains("configuration refused", errors, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Check_Quickstart_Exit0()
    {
        await using var check = SwitchmanExecutable.Start("check", "-c", Path.Combine(AppContext.BaseDirectory, "examples", "quickstart.yaml"));

        Assert.Equal(0, await check.WaitForExitAsync(ExitTimeout));
        Assert.Contains(check.StandardOutputLines, l => l.Contains("configuration is valid", StringComparison.Ordinal));
    }

    [Fact]
    public async Task Run_InvalidFile_RefusesToStart()
    {
        var path = Path.Combine(AppContext.BaseDirectory, "BrokenConfigs", "rise-below-one.yaml");

        await using var run = SwitchmanExecutable.Start("run", "-c", path);

        Assert.Equal(1, await run.WaitForExitAsync(ExitTimeout));
        Assert.Contains(run.StandardErrorLines, l => l.Contains("backends.api.health.rise", StringComparison.Ordinal));
        Assert.DoesNotContain(run.StandardOutputLines, l => l.Contains("listening", StringComparison.Ordinal));
    }

    [Fact]
    public async Task Run_ServesTraffic_WritesNothingInHome_AndStopsCleanlyOnSigterm()
    {
        await using var a = await DemoBackendProcess.StartAsync("a");
        await using var b = await DemoBackendProcess.StartAsync("b");
        using var dir = new TempDirectory();
        // ASP.NET Core's data protection, if set up, writes a key ring under $HOME/.aspnet and warns that it is unencrypted.
        using var home = new TempDirectory();
        var config = Path.Combine(dir.Path, "switchman.yaml");
        await File.WriteAllTextAsync(config, $"""
            admin:
              listen: 127.0.0.1:0
            frontends:
              web:
                listen: 127.0.0.1:0
                default_backend: api
            backends:
              api:
                servers:
                  - name: a
                    address: {a.Address}
                  - name: b
                    address: {b.Address}
                health:
                  path: /healthz
                  interval: 500ms
            """);

        await using var run = SwitchmanExecutable.Start(["run", "-c", config], new ChildProcessOptions { Environment = new Dictionary<string, string?> { ["HOME"] = home.Path } });
        var adminLine = await run.WaitForOutputLineAsync(l => l.StartsWith("switchman: admin listening on ", StringComparison.Ordinal), ExitTimeout, "the admin listener");
        var frontendLine = await run.WaitForOutputLineAsync(l => l.StartsWith("switchman: frontend web listening on ", StringComparison.Ordinal), ExitTimeout, "the frontend listener");
        using var admin = new HttpClient { BaseAddress = new Uri(adminLine.Split(' ').Last()) };
        using var client = new HttpClient { BaseAddress = new Uri(frontendLine.Split(' ').Last()) };

        await Await.UntilAsync(async () => (await admin.GetAsync("/readyz")).StatusCode == HttpStatusCode.OK, ExitTimeout, "readiness after the first health checks");
        var servers = new HashSet<string>();
        for (var i = 0; i < 4; i++)
        {
            servers.Add(BalancingTests.ServerOf(await client.GetStringAsync("/hello")));
        }
        Assert.Equal(["a", "b"], servers.Order());
        Assert.Equal(HttpStatusCode.Unauthorized, (await admin.GetAsync("/api/v1/status")).StatusCode); // authentication still runs

        run.Terminate();
        Assert.Equal(0, await run.WaitForExitAsync(ExitTimeout));
        Assert.Empty(Directory.EnumerateFileSystemEntries(home.Path, "*", SearchOption.AllDirectories));
        Assert.DoesNotContain(run.StandardOutputLines.Concat(run.StandardErrorLines), l => l.Contains("DataProtection", StringComparison.Ordinal));
    }

    [Theory]
    [InlineData(null, true)] // the default
    [InlineData("0", false)] // an operator's choice stands, and passes on to the services like any other variable
    public async Task Run_CompletesSocketOperationsOnTheEventThreads_AndItsServicesDoNotInheritTheSetting(string? operatorSetting, bool inline)
    {
        const string variable = "DOTNET_SYSTEM_NET_SOCKETS_INLINE_COMPLETIONS";
        // With inline completions the runtime runs one event thread per core, otherwise one for up to 30 cores.
        Assert.True(Environment.ProcessorCount is > 1 and < 45, $"this test tells the two modes apart by their event threads: it needs 2–44 cores, not {Environment.ProcessorCount}");
        using var dir = new TempDirectory();
        var environmentFile = Path.Combine(dir.Path, "service-environment");
        var config = dir.WriteFile("switchman.yaml", TestConfig.NodeWithoutLiveServer + $"""
            services:
              printenv:
                command: ["/bin/sh", "-c", "env > {environmentFile}.tmp && mv {environmentFile}.tmp {environmentFile}; exec sleep 600"]
            """);

        await using var run = SwitchmanExecutable.Start(
            ["run", "-c", config], new ChildProcessOptions { Environment = new Dictionary<string, string?> { [variable] = operatorSetting } });
        await Await.UntilAsync(() => File.Exists(environmentFile), ExitTimeout, "the service to write its environment");

        // The runtime starts its event threads, all at once, when a socket first waits: with the operator's 0 that is the
        // frontend's first accept, which may come after the service (started first) wrote its file.
        int EventThreads() => Directory.GetDirectories($"/proc/{run.Pid}/task")
            .Count(task => File.ReadAllText(Path.Combine(task, "comm")).TrimEnd('\n') == ".NET Sockets");
        await Await.UntilAsync(() => EventThreads() > 0, ExitTimeout, "the runtime's socket event threads to start");
        Assert.Equal(inline ? Environment.ProcessorCount : 1, EventThreads());
        var inherited = File.ReadAllLines(environmentFile).Where(line => line.StartsWith(variable + "=", StringComparison.Ordinal));
        Assert.Equal(operatorSetting is null ? [] : [$"{variable}={operatorSetting}"], inherited);
        run.Terminate();
        Assert.Equal(0, await run.WaitForExitAsync(ExitTimeout));
    }

    [Fact]
    public async Task Run_SigtermWhileStarting_IsAStopNotAFailure_Exit0()
    {
        using var dir = new TempDirectory();
        var config = dir.WriteFile("switchman.yaml", TestConfig.NodeWithoutLiveServer);

        await using var run = SwitchmanExecutable.Start("run", "-c", config);
        // Logged while the data plane starts, before the host has finished starting (the admin listener, the services
        // after it): a SIGTERM then is what `systemctl stop` sends to a node still starting. It exited 1 before.
        await run.WaitForOutputLineAsync(l => l.Contains("Switchman.Proxy.Frontend[1001]", StringComparison.Ordinal), ExitTimeout, "the frontend's first log line");
        run.Terminate();

        Assert.Equal(0, await run.WaitForExitAsync(ExitTimeout));
        Assert.Empty(run.StandardErrorLines);
    }

    [Fact]
    public async Task Sighup_ReloadsTheFile_AndRefusesABrokenOneKeepingTheOld()
    {
        await using var a = await DemoBackendProcess.StartAsync("a");
        await using var b = await DemoBackendProcess.StartAsync("b");
        using var dir = new TempDirectory();
        var config = Path.Combine(dir.Path, "switchman.yaml");
        string ConfigWith(string server, string address, int rise = 2) => $"""
            admin:
              listen: 127.0.0.1:0
            frontends:
              web:
                listen: 127.0.0.1:0
                default_backend: api
            backends:
              api:
                servers:
                  - name: {server}
                    address: {address}
                health:
                  path: /healthz
                  interval: 500ms
                  rise: {rise}
            """;
        await File.WriteAllTextAsync(config, ConfigWith("a", a.Address));

        await using var run = SwitchmanExecutable.Start("run", "-c", config);
        var frontendLine = await run.WaitForOutputLineAsync(l => l.StartsWith("switchman: frontend web listening on ", StringComparison.Ordinal), ExitTimeout, "the frontend listener");
        using var client = new HttpClient { BaseAddress = new Uri(frontendLine.Split(' ').Last()) };
        Assert.Equal("a", BalancingTests.ServerOf(await client.GetStringAsync("/x")));

        await File.WriteAllTextAsync(config, ConfigWith("b", b.Address));
        run.SendHangup();
        await Await.UntilAsync(async () => BalancingTests.ServerOf(await client.GetStringAsync("/x")) == "b", ExitTimeout, "traffic to move to b after SIGHUP");

        await File.WriteAllTextAsync(config, ConfigWith("a", a.Address, rise: 0));
        run.SendHangup();
        await run.WaitForOutputLineAsync(l => l.Contains("rise", StringComparison.Ordinal) && l.Contains("refused", StringComparison.Ordinal), ExitTimeout, "the refused reload to be logged with its error");
        Assert.Equal("b", BalancingTests.ServerOf(await client.GetStringAsync("/x")));
        Assert.False(run.HasExited);
    }

    private static (string Location, string Path, string Message) ExpectationOf(string file)
    {
        // First line of each broken file: "# expect: <line>:<col> <path>: <message fragment>"
        var match = Regex.Match(File.ReadLines(file).First(), @"^# expect: (\d+:\d+) ?(\S*): (.+)$");
        Assert.True(match.Success, $"{file} lacks an '# expect:' first line");
        return (match.Groups[1].Value, match.Groups[2].Value, match.Groups[3].Value);
    }
}
