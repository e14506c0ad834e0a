using System.Text.Json;
using System.Text.RegularExpressions;
using Switchman.Testing;
using Xunit.Abstractions;

namespace Switchman.ClusterFunctionalTests;

/// <summary>
/// The metrics an operator alerts on: three in-process nodes with a backend of one live and one dead server, a second
/// backend without health checks (so a request to its dead server is retried), a running and a failing service and a
/// VIP. Every metric that examples/grafana/switchman-dashboard.json and examples/prometheus/switchman-alerts.yml use
/// is on the nodes' /metrics, the server state gauge says up and down as it should, and the resource names the service.
/// </summary>
public sealed partial class OperatorMetricsTests(ITestOutputHelper output)
{
    private static readonly TimeSpan Settle = TimeSpan.FromSeconds(60);

    [Fact]
    public async Task Every_metric_the_dashboard_and_the_alert_rules_use_is_exported_and_the_server_state_is_right()
    {
        await using var backends = new DemoBackends();
        var live = await backends.StartAsync("live");
        await using var cluster = new SwitchmanTestCluster(output, voters: 3, run: TestClusterNodes.InProcess) { NoOpVipTools = true };
        var sparePort = LoopbackPorts.Free();
        foreach (var node in cluster.Nodes)
        {
            var yaml = cluster.ConfigYaml(node)
                .Replace("backends:\n", $"""
                      spare:
                        listen: 127.0.0.1:{sparePort}
                        routes:
                          - backend: spare
                    backends:

                    """, StringComparison.Ordinal)
                .Replace("      - { name: seed, address: 127.0.0.1:9 }", $"""
                          - {"{"} name: live, address: 127.0.0.1:{live.Port} {"}"}
                          - {"{"} name: dead, address: 127.0.0.1:9 {"}"}
                        health: {"{"} path: /healthz, interval: 200ms, timeout: 1s, rise: 1, fall: 2 {"}"}
                      spare:
                        servers:
                          - {"{"} name: dead, address: 127.0.0.1:9 {"}"}
                          - {"{"} name: live, address: 127.0.0.1:{live.Port} {"}"}
                    """, StringComparison.Ordinal);
            await File.WriteAllTextAsync(node.ConfigFile, yaml + """
                vips:
                  - { name: api, address: 192.0.2.210/24, interface: lab0 }
                services:
                  app:
                    command: ["/bin/sh", "-c", "trap 'exit 0' TERM; while :; do sleep 0.1; done"]
                    stop_timeout: 2s
                  broken:
                    command: ["/bin/sh", "-c", "exit 3"]
                    stop_timeout: 2s
                """);
        }
        await cluster.StartAllAsync();
        await cluster.WaitForLeaderAsync();

        using var client = new HttpClient { Timeout = TimeSpan.FromSeconds(10) };
        for (var i = 0; i < 4; i++)
        {
            (await client.GetAsync(new Uri($"http://127.0.0.1:{cluster.FrontendPort}/items/{i}"))).Dispose();
            (await client.GetAsync(new Uri($"http://127.0.0.1:{sparePort}/items/{i}"))).Dispose();
        }
        var names = ReferencedMetrics();
        output.WriteLine("referenced: " + string.Join(", ", names));
        Assert.Contains("switchman_server_state", names);
        string scrape = "";
        await Await.UntilAsync(async () =>
        {
            scrape = await ScrapeAllAsync(cluster);
            if (!names.All(n => Exported(scrape, n))
                || !cluster.Nodes.All(n => cluster.Node(n).DataPlane.GetStatus().Backends.Single(b => b.Name == "api").Servers
                    .All(s => s.Health == (s.Name == "dead" ? "down" : "up"))))
            {
                return false;
            }
            // The exporter answers a scrape from a cache for a moment (300 ms): until each node's /metrics has caught up
            // with the health checks, it may still say what was true before.
            foreach (var node in cluster.Nodes)
            {
                var metrics = await cluster.Node(node).MetricsAsync();
                if (!Samples(metrics, "switchman_server_state", ("backend", "api"), ("server", "dead"), ("state", "down")).All(v => v == 1)
                    || !Samples(metrics, "switchman_server_state", ("backend", "api"), ("server", "live"), ("state", "up")).All(v => v == 1))
                {
                    return false;
                }
            }
            return true;
        }, Settle, "every referenced metric on /metrics, the dead server down and the live one up on every node and in its metrics");
        Assert.All(names, n => Assert.True(Exported(scrape, n), $"{n} is not on /metrics"));

        // In-process nodes share one process, and the OpenTelemetry SDK listens to every meter of that name in it: a node's
        // scrape may carry its neighbours' series too (a real node has only its own). So: every sample says the same.
        foreach (var node in cluster.Nodes)
        {
            var metrics = await cluster.Node(node).MetricsAsync();
            Assert.Equal(1, PrometheusText.Sum(metrics, "switchman_cluster_leader"));
            Assert.Contains(metrics.Split('\n'), l => l.StartsWith("switchman_cluster_leader{", StringComparison.Ordinal) && l.Contains($"node=\"{node.Id}\"", StringComparison.Ordinal));
            AllEqual(1, metrics, "switchman_server_state", ("backend", "api"), ("server", "dead"), ("state", "down"));
            AllEqual(0, metrics, "switchman_server_state", ("backend", "api"), ("server", "dead"), ("state", "up"));
            AllEqual(1, metrics, "switchman_server_state", ("backend", "api"), ("server", "live"), ("state", "up"));
            AllEqual(0, metrics, "switchman_server_state", ("backend", "api"), ("server", "live"), ("state", "down"));
            AllEqual(0, metrics, "switchman_server_state", ("backend", "api"), ("server", "live"), ("state", "maint"));
            AllEqual(2, metrics, "switchman_backend_servers", ("backend", "api"));
            AllEqual(1, metrics, "switchman_backend_servers_available", ("backend", "api"));
            AllEqual(1, metrics, "switchman_service_instance_state", ("service", "app"), ("state", "running"));
            AllEqual(0, metrics, "switchman_service_instance_state", ("service", "app"), ("state", "failed"));
            var target = metrics.Split('\n').Single(l => l.StartsWith("target_info{", StringComparison.Ordinal));
            output.WriteLine(target);
            Assert.Contains("service_name=\"switchman\"", target, StringComparison.Ordinal);
            Assert.Contains($"service_instance_id=\"{node.Id}\"", target, StringComparison.Ordinal);
            Assert.DoesNotContain("unknown_service", metrics, StringComparison.Ordinal);
        }
    }

    /// <summary>There is at least one sample of <paramref name="name"/> with <paramref name="labels"/>, and each is <paramref name="expected"/>.</summary>
    private static void AllEqual(double expected, string metrics, string name, params (string Label, string Value)[] labels)
    {
        var values = Samples(metrics, name, labels);
        Assert.True(values.Count > 0, $"no {name} with {string.Join(", ", labels)}");
        Assert.All(values, v => Assert.Equal(expected, v));
    }

    /// <summary>The values of the samples of <paramref name="name"/> with <paramref name="labels"/>.</summary>
    private static List<double> Samples(string metrics, string name, params (string Label, string Value)[] labels) =>
        metrics.Split('\n')
            .Where(l => l.StartsWith(name + "{", StringComparison.Ordinal) && labels.All(p => l.Contains($"{p.Label}=\"{p.Value}\"", StringComparison.Ordinal)))
            .Select(l => double.Parse(l[(l.LastIndexOf(' ') + 1)..], System.Globalization.CultureInfo.InvariantCulture))
            .ToList();

    /// <summary>Scrapes every node (as Prometheus does) and returns the texts one after the other.</summary>
    private static async Task<string> ScrapeAllAsync(SwitchmanTestCluster cluster)
    {
        var texts = await Task.WhenAll(cluster.Nodes.Select(n => cluster.Node(n).MetricsAsync()));
        return string.Join('\n', texts);
    }

    /// <summary>A series of <paramref name="name"/> as the exporter writes it (a histogram's _bucket, a counter's _total included).</summary>
    private static bool Exported(string scrape, string name) =>
        scrape.Split('\n').Any(l => l.StartsWith(name, StringComparison.Ordinal) && l.Length > name.Length && l[name.Length] is '{' or ' ');

    /// <summary>The metric names in the dashboard's expressions and the alert rules' <c>expr</c>.</summary>
    private static SortedSet<string> ReferencedMetrics()
    {
        var root = RepositoryFiles.Root;
        var expressions = new List<string>();
        using (var dashboard = JsonDocument.Parse(File.ReadAllText(Path.Combine(root, "examples", "grafana", "switchman-dashboard.json"))))
        {
            CollectExpressions(dashboard.RootElement, expressions);
        }
        expressions.AddRange(File.ReadAllLines(Path.Combine(root, "examples", "prometheus", "switchman-alerts.yml"))
            .Select(l => l.Trim()).Where(l => l.StartsWith("expr:", StringComparison.Ordinal)));
        Assert.True(expressions.Count > 10, "the dashboard and the rules have expressions");
        return [.. expressions.SelectMany(e => MetricName().Matches(e).Select(m => m.Value))];
    }

    private static void CollectExpressions(JsonElement element, List<string> expressions)
    {
        if (element.ValueKind == JsonValueKind.Object)
        {
            foreach (var property in element.EnumerateObject())
            {
                if (property.Name is "expr" or "definition" && property.Value.ValueKind == JsonValueKind.String)
                {
                    expressions.Add(property.Value.GetString()!);
                }
                CollectExpressions(property.Value, expressions);
            }
        }
        else if (element.ValueKind == JsonValueKind.Array)
        {
            foreach (var item in element.EnumerateArray())
            {
                CollectExpressions(item, expressions);
            }
        }
    }

    [GeneratedRegex("switchman_[a-z_]+")]
    private static partial Regex MetricName();
}
