using System.Diagnostics;
using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Switchman.Core.Configuration;
using Switchman.Testing;
using Xunit.Abstractions;

namespace Switchman.FunctionalTests;

/// <summary>
/// A node that supervises its own backends (the <c>services:</c> section), with real processes: a crashed instance comes
/// back and serves again while clients notice nothing, one that keeps failing is left out until cleanup, a rolling
/// restart loses no request, stopping leaves no process behind, and a broken definition is refused with its field.
/// </summary>
public sealed class ServiceSupervisionTests(ITestOutputHelper output)
{
    private static readonly TimeSpan Settle = TimeSpan.FromSeconds(30);

    private static readonly LoadOptions SteadyLoad = new()
    {
        Concurrency = 4,
        MaxDuration = TimeSpan.FromSeconds(60),
        MaxRequests = 100_000,
        RequestsPerSecond = 200,
        RequestTimeout = TimeSpan.FromSeconds(5),
    };

    [Fact]
    public async Task A_killed_instance_is_restarted_and_serves_again_while_no_request_fails()
    {
        await using var node = await StartAsync(DemoServices("a", "b", "c"));
        var url = node.FrontendUrl();
        await WaitRunningAsync(node, "demo-a", "demo-b", "demo-c");
        await WaitServingAsync(node);

        await using var load = LoadGenerator.Start(SteadyLoad, i => new HttpRequestMessage(HttpMethod.Get, new Uri(url, $"/items/{i}")));
        await load.WaitForCompletedAsync(200, Settle);
        var killed = await PidAsync(node, "demo-b");
        Process.GetProcessById(killed).Kill();
        var restarted = await WaitForNewPidAsync(node, "demo-b", killed);
        await Await.UntilAsync(async () => (await node.ServerStatusAsync("api", "b")).Health == "up", Settle, "b healthy again in the load balancer");
        var servedBeforeBack = await ServedByAsync(node, "b");
        await Await.UntilAsync(async () => await ServedByAsync(node, "b") > servedBeforeBack + 20, Settle, "b to serve requests again");
        var result = await load.StopAsync();

        output.WriteLine(result.ToString());
        Assert.Equal(0, result.Failed);
        Assert.NotEqual(killed, restarted);
        var instance = await InstanceAsync(node, "demo-b");
        Assert.Equal((1, "killed by SIGKILL"), (instance.GetProperty("failures").GetInt32(), instance.GetProperty("last_failure").GetString()));
        Assert.Contains(node.Events.Since(0), e => e.Type == "service_failed" && e.Message.StartsWith("service demo-b on", StringComparison.Ordinal));
        var metrics = await node.MetricsAsync();
        Assert.Equal(1, PrometheusText.Sum(metrics, "switchman_service_failures_total", ("service", "demo-b")));
        Assert.Equal(2, PrometheusText.Sum(metrics, "switchman_service_starts_total", ("service", "demo-b")));
        Assert.True(PrometheusText.Sum(metrics, "switchman_service_monitor_duration_seconds_count", ("service", "demo-b")) > 0, "monitor checks are timed");
    }

    [Fact]
    public async Task A_crashed_instance_that_binds_its_port_before_it_has_loaded_gets_no_request_until_its_monitor_passes()
    {
        // Like uwsgi loading Keystone: the new process listens within a second and answers only seconds later. Health
        // checks at their defaults would take several seconds to notice, and a connect that succeeds says nothing.
        var loadsSlowly = DemoService("b") with
        {
            Command = new ValueList<string>([.. DemoService("b").Command, "--load-time", "4s"]),
            StartTimeout = TimeSpan.FromSeconds(30),
        };
        var config = DemoServices("a", "b");
        config = config with
        {
            Backends = ValueList.Create(config.Backends[0] with { Health = new HealthCheckConfig { Path = "/healthz" } }),
            Services = ValueList.Create(DemoService("a"), loadsSlowly),
        };
        await using var node = await StartAsync(config);
        await WaitRunningAsync(node, "demo-a", "demo-b");
        await WaitServingAsync(node);

        var killed = await PidAsync(node, "demo-b");
        Process.GetProcessById(killed).Kill();
        // Sequential GETs until the new instance's monitor has passed, and a few after: every one is answered, and none
        // waited for b to load (the demo backend marks a response that did).
        using var client = node.CreateFrontendClient();
        var answeredBy = new List<string>();
        var waitedForLoad = new List<int>();
        var heldOut = new List<string?>();
        var deadline = Stopwatch.StartNew();
        var afterBack = 0;
        while (deadline.Elapsed < Settle && afterBack < 20)
        {
            using var response = await client.GetAsync($"/while-b-loads/{answeredBy.Count}");
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
            answeredBy.Add(response.Headers.GetValues("X-Server").Single());
            if (response.Headers.Contains("X-Waited-For-Load"))
            {
                waitedForLoad.Add(answeredBy.Count - 1);
            }
            heldOut.Add((await node.ServerStatusAsync("api", "b")).HeldOut);
            if (afterBack > 0 || (await InstanceAsync(node, "demo-b")) is var b && b.GetProperty("state").GetString() == "running" && b.GetProperty("pid").GetInt32() != killed)
            {
                afterBack++;
            }
        }
        output.WriteLine($"{answeredBy.Count} requests: {string.Join(",", answeredBy.GroupBy(s => s).Select(g => $"{g.Key}={g.Count()}"))}");
        Assert.True(answeredBy.Count >= 30, $"only {answeredBy.Count} requests were sent");
        Assert.True(waitedForLoad.Count == 0, $"requests {string.Join(", ", waitedForLoad)} were sent to b while it was still loading and waited for it");
        // The status said why b got nothing meanwhile; once it runs, it takes requests again.
        Assert.Contains(heldOut, why => why is "service demo-b is starting on this node" or "service demo-b is restarting on this node");
        Assert.Null((await node.ServerStatusAsync("api", "b")).HeldOut);
        var servedBefore = await ServedByAsync(node, "b");
        await Await.UntilAsync(async () =>
        {
            using var _ = await client.GetAsync("/after-b-is-back");
            return await ServedByAsync(node, "b") > servedBefore + 5;
        }, Settle, "b to take requests again once it runs");
    }

    [Fact]
    public async Task An_instance_that_keeps_failing_is_left_stopped_and_out_of_the_load_balancer_until_cleanup()
    {
        await using var node = await StartAsync(DemoServices("a", "b") with
        {
            Services = ValueList.Create(DemoService("a"), DemoService("b") with { MigrationThreshold = 2 }),
        });
        await WaitRunningAsync(node, "demo-a", "demo-b");

        for (var crash = 1; crash <= 2; crash++)
        {
            var pid = await PidAsync(node, "demo-b");
            Process.GetProcessById(pid).Kill();
            if (crash < 2)
            {
                await WaitForNewPidAsync(node, "demo-b", pid);
            }
        }
        await Await.UntilAsync(async () => (await InstanceAsync(node, "demo-b")).GetProperty("state").GetString() == "failed", Settle, "demo-b left failed");
        var failed = await InstanceAsync(node, "demo-b");
        Assert.Contains("2 failures reached migration_threshold 2: left stopped here until cleanup", failed.GetProperty("problem").GetString(), StringComparison.Ordinal);
        Assert.False(failed.TryGetProperty("pid", out _));
        await Await.UntilAsync(async () => (await node.ServerStatusAsync("api", "b")).Health == "down", Settle, "b down in the load balancer");
        using (var client = node.CreateFrontendClient())
        {
            for (var i = 0; i < 20; i++)
            {
                Assert.Contains("\"server\":\"a\"", await client.GetStringAsync($"/after-failure/{i}"), StringComparison.Ordinal);
            }
        }

        using var cleanup = await node.Admin.PostAsync("/api/v1/services/demo-b/cleanup", null);
        Assert.Equal(HttpStatusCode.OK, cleanup.StatusCode);
        await WaitRunningAsync(node, "demo-b");
        Assert.Equal(0, (await InstanceAsync(node, "demo-b")).GetProperty("failures").GetInt32());
        await Await.UntilAsync(async () => (await node.ServerStatusAsync("api", "b")).Health == "up", Settle, "b back in the load balancer after cleanup");
    }

    [Fact]
    public async Task A_rolling_restart_under_load_fails_no_request_and_gives_every_instance_a_new_pid()
    {
        await using var node = await StartAsync(DemoServices("a", "b", "c"));
        var url = node.FrontendUrl();
        await WaitRunningAsync(node, "demo-a", "demo-b", "demo-c");
        await WaitServingAsync(node);
        var before = new Dictionary<string, int>();
        foreach (var service in new[] { "demo-a", "demo-b", "demo-c" })
        {
            before[service] = await PidAsync(node, service);
        }

        await using var load = LoadGenerator.Start(SteadyLoad, i => new HttpRequestMessage(HttpMethod.Get, new Uri(url, $"/items/{i}")));
        await load.WaitForCompletedAsync(200, Settle);
        foreach (var service in before.Keys)
        {
            using var response = await node.Admin.PostAsync($"/api/v1/services/{service}/restart?rolling=true", null);
            var body = await response.Content.ReadAsStringAsync();
            output.WriteLine(body);
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
            Assert.Contains("ready again", body, StringComparison.Ordinal);
        }
        await load.WaitForCompletedAsync(load.Completed + 200, Settle);
        var result = await load.StopAsync();

        output.WriteLine(result.ToString());
        Assert.Equal(0, result.Failed);
        foreach (var (service, pid) in before)
        {
            Assert.NotEqual(pid, await PidAsync(node, service));
        }
        Assert.All(["a", "b", "c"], server => Assert.Equal("ready", node.DataPlane.GetStatus().Backends[0].Servers.Single(s => s.Name == server).State));
    }

    [Fact]
    public async Task Stopping_leaves_no_process_and_a_service_that_ignores_SIGTERM_is_killed_after_its_stop_timeout()
    {
        var config = TestConfig.Single(TestConfig.Backend(("a", $"127.0.0.1:{LoopbackPorts.Free()}"))) with
        {
            Services = ValueList.Create(
                new ServiceConfig
                {
                    Name = "stubborn",
                    // The shell and the sleep it starts both ignore SIGTERM (an ignored signal stays ignored across exec).
                    Command = ValueList.Create("/bin/sh", "-c", "trap '' TERM; sleep 600 & wait"),
                    StopTimeout = TimeSpan.FromMilliseconds(500),
                },
                new ServiceConfig { Name = "tidy", Command = ValueList.Create("/bin/sh", "-c", "sleep 600 & sleep 600 & wait") }),
        };
        var node = await StartAsync(config);
        int stubborn, tidy;
        List<int> stubbornGroup, tidyGroup;
        try
        {
            await WaitRunningAsync(node, "stubborn", "tidy");
            stubborn = await PidAsync(node, "stubborn");
            tidy = await PidAsync(node, "tidy");
            await Await.UntilAsync(() => GroupMembers(stubborn).Count == 2 && GroupMembers(tidy).Count == 3, Settle, "each service's children to start");
            stubbornGroup = GroupMembers(stubborn);
            tidyGroup = GroupMembers(tidy);

            var stopwatch = Stopwatch.StartNew();
            using var stop = await node.Admin.PostAsync("/api/v1/services/stubborn/stop", null);
            Assert.Equal(HttpStatusCode.OK, stop.StatusCode);
            Assert.Empty(GroupMembers(stubborn));
            Assert.InRange(stopwatch.Elapsed, TimeSpan.FromMilliseconds(500), TimeSpan.FromSeconds(10));
            Assert.Contains(node.Logs.GetSnapshot(), r => r.Id.Id == 7006 && r.Message.Contains("stubborn", StringComparison.Ordinal));
            var stopped = await InstanceAsync(node, "stubborn");
            Assert.Equal("stopped", stopped.GetProperty("state").GetString());
            Assert.Contains("\"stopped_by\":\"ops\"", await node.Reader.GetStringAsync("/api/v1/services/stubborn"), StringComparison.Ordinal);
        }
        finally
        {
            await node.DisposeAsync();
        }
        Assert.All(stubbornGroup.Concat(tidyGroup), pid => Assert.False(IsAlive(pid), $"process {pid} outlived its node"));
    }

    [Fact]
    public async Task A_broken_definition_is_refused_with_its_field_and_the_running_services_stay()
    {
        await using var node = await StartAsync(DemoServices("a"));
        await WaitRunningAsync(node, "demo-a");
        var pid = await PidAsync(node, "demo-a");
        var yaml = await node.Admin.GetStringAsync("/api/v1/config");

        var broken = yaml + "  broken:\n    command: [/no/such/program]\n    after: [ghost]\n    monitor: { http: \"ftp://x\" }\n";
        using var response = await node.Admin.PutAsync("/api/v1/config", new StringContent(broken));
        var body = await response.Content.ReadAsStringAsync();
        output.WriteLine(body);

        Assert.Equal(HttpStatusCode.UnprocessableEntity, response.StatusCode);
        Assert.Contains("services.broken.after[0]", body, StringComparison.Ordinal);
        Assert.Contains("service 'ghost' does not exist", body, StringComparison.Ordinal);
        Assert.Contains("services.broken.monitor.http", body, StringComparison.Ordinal);

        var missingProgram = yaml + "  broken:\n    command: [/no/such/program]\n";
        using var second = await node.Admin.PutAsync("/api/v1/config", new StringContent(missingProgram));
        var secondBody = await second.Content.ReadAsStringAsync();
        Assert.Equal(HttpStatusCode.UnprocessableEntity, second.StatusCode);
        Assert.Contains("program '/no/such/program' does not exist on this node", secondBody, StringComparison.Ordinal);
        Assert.Equal(pid, await PidAsync(node, "demo-a"));
    }

    [Fact]
    public async Task A_program_missing_on_this_node_is_a_failed_instance_and_the_load_balancer_keeps_serving()
    {
        // A node started from its file (or applying a committed change) does not refuse it: the instance fails, visibly.
        var config = DemoServices("a", "b") with
        {
            Services = ValueList.Create(DemoService("a"), new ServiceConfig { Name = "demo-b", Command = ValueList.Create("/no/such/program"), Backend = "api", Server = "b" }),
        };
        await using var node = await StartAsync(config);
        await WaitRunningAsync(node, "demo-a");
        await Await.UntilAsync(async () => (await InstanceAsync(node, "demo-b")).GetProperty("state").GetString() == "failed", Settle, "demo-b to be left failed");

        var instance = await InstanceAsync(node, "demo-b");
        Assert.Contains("/no/such/program", instance.GetProperty("problem").GetString(), StringComparison.Ordinal);
        await Await.UntilAsync(async () => (await node.ServerStatusAsync("api", "a")).Health == "up", Settle, "a up in the load balancer");
        using var client = node.CreateFrontendClient();
        using var answer = await client.GetAsync("/still-served");
        Assert.Equal(HttpStatusCode.OK, answer.StatusCode);
    }

    [Fact]
    public async Task A_service_starts_after_the_one_it_comes_after_and_its_output_is_kept()
    {
        var config = TestConfig.Single(TestConfig.Backend(("a", $"127.0.0.1:{LoopbackPorts.Free()}"))) with
        {
            Services = ValueList.Create(
                new ServiceConfig { Name = "late", Command = ValueList.Create("/bin/sh", "-c", "echo late-started; exec sleep 600"), After = ValueList.Create("early") },
                new ServiceConfig
                {
                    Name = "early",
                    Command = ValueList.Create("/bin/sh", "-c", "echo early-started; exec sleep 600"),
                    // Passes only once a marker exists: until then "late" must wait.
                    Monitor = new ServiceMonitorConfig { Type = ServiceMonitorType.Tcp, Target = "127.0.0.1:1", Interval = TimeSpan.FromMilliseconds(100) },
                    StartTimeout = TimeSpan.FromMinutes(5),
                }),
        };
        await using var node = await StartAsync(config);
        await Await.UntilAsync(async () => (await InstanceAsync(node, "early")).GetProperty("state").GetString() == "starting", Settle, "early to start");
        await Task.Delay(TimeSpan.FromSeconds(1));

        var late = await InstanceAsync(node, "late");
        Assert.Equal("stopped", late.GetProperty("state").GetString());
        Assert.Equal("waiting for early to run", late.GetProperty("problem").GetString());
        Assert.EndsWith(" early-started", (await node.Reader.GetStringAsync("/api/v1/services/early/log?lines=1")).Trim(), StringComparison.Ordinal);

        // A bad query value is a 400 that names it, like every other (docs/admin-api.md, Conventions), and changes nothing.
        using var badLines = await node.Reader.GetAsync("/api/v1/services/early/log?lines=0");
        Assert.Equal(HttpStatusCode.BadRequest, badLines.StatusCode);
        Assert.Contains("?lines must be a number from 1 to", await badLines.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        using var badDrain = await node.Admin.PostAsync("/api/v1/services/early/restart?rolling=true&drain_timeout=forever", null);
        Assert.Equal(HttpStatusCode.BadRequest, badDrain.StatusCode);
        Assert.Contains("?drain_timeout must be a duration", await badDrain.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        using var rollingOnOneNode = await node.Admin.PostAsync("/api/v1/services/early/restart?rolling=true&node=n1", null);
        Assert.Equal(HttpStatusCode.BadRequest, rollingOnOneNode.StatusCode);
        Assert.Equal("starting", (await InstanceAsync(node, "early")).GetProperty("state").GetString());
    }

    [Fact]
    public async Task A_node_started_again_after_a_crash_kills_the_service_processes_its_last_run_left()
    {
        using var directory = new TempDirectory("switchman-crash");
        var port = LoopbackPorts.Free();
        var admin = LoopbackPorts.Free();
        var file = directory.WriteFile("switchman.yaml", string.Join('\n',
        [
            "admin:",
            $"  listen: 127.0.0.1:{admin}",
            .. TestTokens.YamlLines(),
            $"data_dir: {directory.Combine("data")}",
            "frontends:",
            $"  web: {{ listen: \"127.0.0.1:{LoopbackPorts.Free()}\", default_backend: api }}",
            "backends:",
            $"  api: {{ servers: [{{ name: a, address: \"127.0.0.1:{port}\" }}] }}",
            "services:",
            "  marker:",
            "    command: [/bin/sh, -c, \"sleep 600 & exec sleep 601\"]",
            "",
        ]));
        using var http = new HttpClient { BaseAddress = new Uri($"http://127.0.0.1:{admin}") };
        http.DefaultRequestHeaders.Authorization = new("Bearer", TestTokens.AdminToken);

        await using (var first = SwitchmanExecutable.Start("run", "-c", file))
        {
            await Await.UntilAsync(async () => await PidOfAsync(http) > 0, Settle, "the service to run");
            var orphan = await PidOfAsync(http);
            await Await.UntilAsync(() => GroupMembers(orphan).Count == 2, Settle, "both of its processes");
            first.Crash();
            await first.WaitForExitAsync(TimeSpan.FromSeconds(10));
            Assert.Equal(2, GroupMembers(orphan).Count); // a crash leaves them running: nobody stopped them

            await using var second = SwitchmanExecutable.Start("run", "-c", file);
            await Await.UntilAsync(() => GroupMembers(orphan).Count == 0, Settle, "the restarted node to kill what its last run left");
            await second.WaitForOutputLineAsync(l => l.Contains("[7020]", StringComparison.Ordinal) && l.Contains("marker", StringComparison.Ordinal), Settle, "event 7020");
            await Await.UntilAsync(async () => await PidOfAsync(http) is var pid && pid > 0 && pid != orphan, Settle, "a new instance");
            await second.StopAsync(TimeSpan.FromSeconds(20));
        }
    }

    [Fact]
    public async Task With_the_access_log_on_standard_output_that_stream_carries_json_lines_only_and_the_node_s_log_goes_to_standard_error()
    {
        using var directory = new TempDirectory("switchman-stdout");
        await using var backend = await DemoBackendProcess.StartAsync("a");
        var frontend = LoopbackPorts.Free();
        var file = directory.WriteFile("switchman.yaml", string.Join('\n',
        [
            "admin:",
            $"  listen: 127.0.0.1:{LoopbackPorts.Free()}",
            "access_log: stdout",
            "frontends:",
            $"  web: {{ listen: \"127.0.0.1:{frontend}\", default_backend: api }}",
            "backends:",
            $"  api: {{ servers: [{{ name: a, address: \"{backend.Address}\" }}] }}",
            "",
        ]));
        await using var node = SwitchmanExecutable.Start("run", "-c", file);
        await node.WaitForErrorLineAsync(l => l.Contains("admin listening", StringComparison.Ordinal), Settle, "the node to start");
        using var client = new HttpClient { BaseAddress = new Uri($"http://127.0.0.1:{frontend}") };
        for (var i = 0; i < 3; i++)
        {
            (await client.GetAsync($"/items/{i}?q={i}")).EnsureSuccessStatusCode().Dispose();
        }
        await node.WaitForOutputLineAsync(l => l.Contains("\"query\":\"?q=2\"", StringComparison.Ordinal), Settle, "the third access log line");
        await node.StopAsync(TimeSpan.FromSeconds(20));

        Assert.Equal(3, node.StandardOutputLines.Count);
        Assert.All(node.StandardOutputLines, line => Assert.Equal(200, JsonDocument.Parse(line).RootElement.GetProperty("status").GetInt32()));
        Assert.Contains(node.StandardErrorLines, l => l.Contains("Frontend web listening", StringComparison.Ordinal));
    }

    private static async Task<int> PidOfAsync(HttpClient http)
    {
        try
        {
            var instances = JsonDocument.Parse(await http.GetStringAsync("/api/v1/services/marker")).RootElement.GetProperty("instances");
            return instances.GetArrayLength() > 0 && instances[0].TryGetProperty("pid", out var pid) && instances[0].GetProperty("state").GetString() == "running" ? pid.GetInt32() : 0;
        }
        catch (HttpRequestException)
        {
            return 0;
        }
    }

    [Fact]
    public async Task A_singleton_runs_where_its_vip_is_and_a_node_in_standby_stops_it_gracefully_before_the_vip_is_given_away()
    {
        var config = TestConfig.Single(TestConfig.Backend(("a", $"127.0.0.1:{LoopbackPorts.Free()}"))) with
        {
            Vips = ValueList.Create(new VipConfig { Name = "api", Address = "192.0.2.200/24", Interface = "lab0" }),
            Services = ValueList.Create(new ServiceConfig
            {
                Name = "solo",
                // Takes half a second to stop on SIGTERM: a fenced (killed) stop would not print its goodbye.
                Command = ValueList.Create("/bin/sh", "-c", "trap 'sleep 0.5; echo goodbye; exit 0' TERM; while :; do sleep 0.1; done"),
                Placement = ServicePlacement.Singleton,
                WithVip = "api",
            }),
        };
        await using var node = await SwitchmanTestNode.StartAsync(config, output, new TestNodeOptions { VipTools = TestNodeOptions.NoOpVipTools });
        await WaitRunningAsync(node, "solo");
        var nodeId = (await InstanceAsync(node, "solo")).GetProperty("node").GetString()!;

        using var standby = await node.Admin.PostAsync($"/api/v1/nodes/{nodeId}/standby", null);
        Assert.Equal(HttpStatusCode.OK, standby.StatusCode);
        await Await.UntilAsync(async () => (await InstanceAsync(node, "solo")).GetProperty("state").GetString() == "stopped", Settle, "solo to stop");

        var stopped = await InstanceAsync(node, "solo");
        Assert.Equal("runs where VIP api is: nobody holds it now", stopped.GetProperty("problem").GetString());
        Assert.EndsWith(" goodbye", (await node.Reader.GetStringAsync("/api/v1/services/solo/log?lines=1")).Trim(), StringComparison.Ordinal);
        Assert.DoesNotContain(node.Logs.GetSnapshot(), r => r.Id.Id == 7007);

        using var online = await node.Admin.PostAsync($"/api/v1/nodes/{nodeId}/online", null);
        await WaitRunningAsync(node, "solo");
    }

    [Fact]
    public async Task Stopping_a_service_stops_what_comes_after_it_first_and_starting_it_again_starts_them_in_order()
    {
        var config = TestConfig.Single(TestConfig.Backend(("a", $"127.0.0.1:{LoopbackPorts.Free()}"))) with
        {
            Services = ValueList.Create(
                new ServiceConfig { Name = "app", Command = ValueList.Create("/bin/sh", "-c", "exec sleep 600"), After = ValueList.Create("cache") },
                new ServiceConfig { Name = "cache", Command = ValueList.Create("/bin/sh", "-c", "exec sleep 601") }),
        };
        await using var node = await StartAsync(config);
        await WaitRunningAsync(node, "cache", "app");

        using var stop = await node.Admin.PostAsync("/api/v1/services/cache/stop", null);
        Assert.Equal(HttpStatusCode.OK, stop.StatusCode);
        await Await.UntilAsync(async () => (await InstanceAsync(node, "cache")).GetProperty("state").GetString() == "stopped", Settle, "cache to stop");

        var app = await InstanceAsync(node, "app");
        Assert.Equal("stopped", app.GetProperty("state").GetString());
        Assert.Equal("it comes after cache, which is not to run here (stopped by ops)", app.GetProperty("problem").GetString());
        // The supervisor's own lines, in the order it acted: app's stop began before cache's, and app started after cache ran.
        Assert.Equal(["app", "cache"], ServicesLogged(node, 7004));

        using var start = await node.Admin.PostAsync("/api/v1/services/cache/start", null);
        await WaitRunningAsync(node, "cache", "app");
        Assert.Equal(["cache", "app", "cache", "app"], ServicesLogged(node, 7001));
    }

    /// <summary>The services named by the supervisor's log events <paramref name="eventId"/>, in the order they were logged.</summary>
    private static List<string> ServicesLogged(SwitchmanTestNode node, int eventId) =>
        [.. node.Logs.GetSnapshot().Where(r => r.Id.Id == eventId).Select(r => r.Message.Split(' ')[eventId == 7004 ? 2 : 1])];

    private async Task<SwitchmanTestNode> StartAsync(SwitchmanConfig config) =>
        await SwitchmanTestNode.StartAsync(config, output, new TestNodeOptions { WaitForFirstHealthRound = false });

    /// <summary>Backend "api" of demo backends on free ports, each run by a service of its own ("demo-a" is server "a").</summary>
    private static SwitchmanConfig DemoServices(params string[] names) =>
        TestConfig.Single(TestConfig.Backend([.. names.Select(n => (n, $"127.0.0.1:{LoopbackPorts.Free()}"))]) with { Health = TestConfig.FastHealth }) with
        {
            Services = new ValueList<ServiceConfig>(names.Select(DemoService)),
        };

    private static ServiceConfig DemoService(string server) => new()
    {
        Name = $"demo-{server}",
        Command = ValueList.Create(DotNetHost.Path, SwitchmanExecutable.DllPath, "demo-backend", "--listen", "{server_address}", "--name", server),
        Backend = "api",
        Server = server,
        Monitor = new ServiceMonitorConfig { Type = ServiceMonitorType.Http, Target = "http://{server_address}/healthz", Interval = TimeSpan.FromMilliseconds(500) },
    };

    private static async Task<JsonElement> InstanceAsync(SwitchmanTestNode node, string service)
    {
        var document = JsonDocument.Parse(await node.Reader.GetStringAsync($"/api/v1/services/{service}")).RootElement;
        var instances = document.GetProperty("instances");
        return instances.GetArrayLength() == 0 ? JsonDocument.Parse("{\"state\":\"none\"}").RootElement : instances[0];
    }

    private static async Task<int> PidAsync(SwitchmanTestNode node, string service) =>
        (await InstanceAsync(node, service)).TryGetProperty("pid", out var pid) ? pid.GetInt32() : 0;

    private static async Task WaitRunningAsync(SwitchmanTestNode node, params string[] services)
    {
        foreach (var service in services)
        {
            await Await.UntilAsync(async () => (await InstanceAsync(node, service)).GetProperty("state").GetString() == "running", Settle, $"{service} to run");
        }
    }

    /// <summary>Until every server of "api" is up in the load balancer (its own health checks, after the instances run).</summary>
    private static Task WaitServingAsync(SwitchmanTestNode node) =>
        Await.UntilAsync(() => node.DataPlane.GetStatus().Backends[0].Servers.All(s => s.Health == "up"), Settle, "every server up in the load balancer");

    private static async Task<int> WaitForNewPidAsync(SwitchmanTestNode node, string service, int old)
    {
        await Await.UntilAsync(async () => (await InstanceAsync(node, service)) is var i && i.GetProperty("state").GetString() == "running" && await PidAsync(node, service) != old,
            Settle, $"{service} to run again with a new pid");
        return await PidAsync(node, service);
    }

    private static async Task<long> ServedByAsync(SwitchmanTestNode node, string server) =>
        (await node.ServerStatusAsync("api", server)).RequestsTotal;

    /// <summary>The live processes of process group <paramref name="pgid"/> (field 5 of /proc/PID/stat; zombies left out).</summary>
    private static List<int> GroupMembers(int pgid)
    {
        var members = new List<int>();
        foreach (var directory in Directory.EnumerateDirectories("/proc"))
        {
            if (!int.TryParse(Path.GetFileName(directory), out var pid))
            {
                continue;
            }
            try
            {
                var stat = File.ReadAllText(Path.Combine(directory, "stat"));
                var fields = stat[(stat.LastIndexOf(')') + 2)..].Split(' ');
                if (fields[0] != "Z" && int.Parse(fields[2], System.Globalization.CultureInfo.InvariantCulture) == pgid)
                {
                    members.Add(pid);
                }
            }
            catch (IOException)
            {
                // Gone meanwhile.
            }
        }
        return members;
    }

    private static bool IsAlive(int pid)
    {
        try
        {
            var stat = File.ReadAllText($"/proc/{pid}/stat");
            return stat[(stat.LastIndexOf(')') + 2)] != 'Z';
        }
        catch (IOException)
        {
            return false;
        }
    }
}
