using System.Net;

namespace Switchman.CliTests;

/// <summary>
/// <c>switchman service</c> and <c>switchman status</c> against recorded answers (<see cref="RecordedAdminApi"/>): a
/// rolling restart that stopped midway, and a node from before services.
/// </summary>
public sealed class ServiceCommandRecordedTests : IAsyncLifetime
{
    private RecordedAdminApi _api = null!;

    public async Task InitializeAsync() => _api = await RecordedAdminApi.StartAsync();

    public async Task DisposeAsync() => await _api.DisposeAsync();

    [Fact]
    public async Task RestartRolling_Stopped_PrintsTheStepsThenTheError_Exit1()
    {
        _api.Answer("POST", "/api/v1/services/api/restart", """
            {"error": "rolling restart of api stopped: lb2: the new instance did not come back: exited with code 3",
             "steps": ["lb1: api/lb1 drained, no request in flight on any load balancer after 120 ms",
                       "lb1: restarted (pid 4242 → 4318), its monitor passed after 850 ms",
                       "lb1: api/lb1 up in every load balancer, ready again",
                       "lb2: api/lb2 drained, no request in flight on any load balancer after 95 ms"]}
            """, status: (int)HttpStatusCode.Conflict);

        var result = await _api.RunAsync("service", "restart", "api", "--rolling", "--drain-timeout", "45s");

        Assert.True(result.ExitCode == 1, result.ToString());
        Assert.Equal(
        [
            "restarting api one node at a time; each waits for its instance to come back…",
            "lb1: api/lb1 drained, no request in flight on any load balancer after 120 ms",
            "lb1: restarted (pid 4242 → 4318), its monitor passed after 850 ms",
            "lb1: api/lb1 up in every load balancer, ready again",
            "lb2: api/lb2 drained, no request in flight on any load balancer after 95 ms",
        ], result.Output);
        Assert.Equal("switchman: rolling restart of api stopped: lb2: the new instance did not come back: exited with code 3", result.StandardError);
        Assert.Equal(("POST", "/api/v1/services/api/restart?rolling=true&drain_timeout=45s"), (Assert.Single(_api.Requests).Method, _api.Requests[0].Target));
    }

    [Theory]
    [InlineData("--drain-timeout applies to a rolling restart: add --rolling", "--drain-timeout", "45s")]
    [InlineData("--rolling goes through every node: leave out --node", "--rolling", "--node", "lb1")]
    public async Task Restart_OptionsThatDoNotGoTogether_RefusedBeforeAnyRequest(string error, params string[] options)
    {
        var result = await _api.RunAsync(["service", "restart", "api", .. options]);

        Assert.True(result.ExitCode == 1, result.ToString());
        Assert.Contains(error, result.StandardError, StringComparison.Ordinal);
        Assert.Empty(_api.Requests);
    }

    [Fact]
    public async Task Status_NodeWithoutTheServicesApi_NoServicesSection()
    {
        // A node from before services answers 404 to /api/v1/services (here: no answer recorded for it).
        _api.Answer("GET", "/api/v1/status", """{"node": {"revision": 4, "id": "lb1"}, "ready": true, "frontends": [], "backends": []}""");

        var result = await _api.RunAsync("status");

        Assert.True(result.ExitCode == 0, result.ToString());
        Assert.Empty(result.Error);
        Assert.DoesNotContain("Services", result.Output);
        Assert.Contains(_api.Requests, r => r.Target == "/api/v1/services");
    }

    [Fact]
    public async Task List_InstanceStates_StoppedServiceAndNoInstance()
    {
        _api.Answer("GET", "/api/v1/services", """
            {"node": "lb1", "services": [
              {"name": "api", "placement": "clone", "backend": "api", "instances": [
                {"node": "lb1", "server": "lb1", "state": "running", "pid": 4318, "started_at": "2026-01-05T10:00:00+00:00", "failures": 1,
                 "last_failure": "monitor failed: HTTP 503", "last_failure_at": "2026-01-05T09:59:58+00:00"},
                {"node": "lb2", "server": "lb2", "state": "restarting", "failures": 2, "last_failure": "exited with code 3",
                 "last_failure_at": "2026-01-05T10:01:00+00:00", "problem": "exited with code 3"}]},
              {"name": "worker", "placement": "singleton", "stopped_by": "ops", "instances": [
                {"node": "lb2", "state": "stopped", "failures": 0}]},
              {"name": "cron", "placement": "singleton", "instances": []}]}
            """);

        var result = await _api.RunAsync("service", "list");

        Assert.True(result.ExitCode == 0, result.ToString());
        var rows = result.Output.Where(l => l.StartsWith("│ ", StringComparison.Ordinal) && !l.StartsWith("│ Service ", StringComparison.Ordinal)).ToList();
        Assert.True(rows.Count == 4, result.ToString());
        Assert.Matches(@"^│ api +│ lb1 +│ running +│ +4318 │ +\d+d \d+h │ +1 │ monitor failed: HTTP 503 \(2026-01-05 09:59:58Z\) +│$", rows[0]);
        Assert.Matches(@"^│ api +│ lb2 +│ restarting +│ +- │ +- │ +2 │ exited with code 3 \(2026-01-05 10:01:00Z\) +│$", rows[1]);
        Assert.Matches(@"^│ worker +│ lb2 +│ stopped +│ +- │ +- │ +0 │ - +│$", rows[2]);
        Assert.Matches(@"^│ cron +│ - +│ no instance +│ +- │ +- │ +- │ - +│$", rows[3]);
        Assert.Equal(
        [
            "service api on lb2: exited with code 3",
            "service worker: stopped by ops; `switchman service start worker` starts it again",
            "service cron: no node reports an instance yet",
        ], result.Output.SkipWhile(l => !l.StartsWith("╰", StringComparison.Ordinal)).Skip(1));
    }

    [Fact]
    public async Task List_NoneConfigured_SaysSo()
    {
        _api.Answer("GET", "/api/v1/services", """{"node": "lb1", "services": []}""");

        var result = await _api.RunAsync("service", "list");

        Assert.True(result.ExitCode == 0, result.ToString());
        Assert.Equal(["no services are configured (see services: in the configuration)"], result.Output);
    }
}
