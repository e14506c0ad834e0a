using System.Text.RegularExpressions;
using Switchman.Core.Configuration;
using Switchman.Core.Configuration.Loading;

namespace Switchman.Core.Tests.Configuration;

/// <summary>The shipped example and the example at the top of the reference must keep loading without errors.</summary>
public partial class ExampleConfigTests
{
    [Fact]
    public void LoadFile_Quickstart_HasNoErrors()
    {
        var result = ConfigLoader.LoadFile(Path.Combine(AppContext.BaseDirectory, "examples", "quickstart.yaml"));

        Assert.True(result.IsValid, string.Join("\n", result.Errors));
        var config = result.Config!;
        Assert.Equal("127.0.0.1:9090", config.Admin.Listen);
        Assert.Equal("stdout", config.AccessLog.Path);
        var web = Assert.Single(config.Frontends);
        Assert.Equal(("web", "127.0.0.1:8080", "api"), (web.Name, web.Listen, web.DefaultBackend));
        var api = Assert.Single(config.Backends);
        Assert.Equal(BalanceAlgorithm.RoundRobin, api.Balance);
        Assert.Equal([("a", "127.0.0.1:9001"), ("b", "127.0.0.1:9002")], api.Servers.Select(s => (s.Name, s.Address)));
        Assert.Equal(
            new HealthCheckConfig { Type = HealthCheckType.Http, Path = "/healthz", Interval = TimeSpan.FromSeconds(1), Rise = 2, Fall = 2 },
            api.Health);
        Assert.NotNull(api.Passive);
        Assert.Equal(2, api.Retry.Retries);
        // The node runs its two servers itself, each a service that is that server.
        Assert.Equal([("demo-a", "a"), ("demo-b", "b")], config.Services.Select(s => (s.Name, s.ServerFor("any-node"))));
        Assert.All(config.Services, s => Assert.Equal(("api", "{switchman}"), (s.Backend, s.Command[0])));
    }

    [Fact]
    public void LoadYaml_OpenStackController_HasNoErrors_AndEveryControllerRunsKeystoneAsItsOwnServer()
    {
        using var dir = new TempDirectory();
        File.WriteAllText(dir.File("cluster.key"), "cluster-secret-0d4e6a91b7c2\n");
        File.WriteAllText(dir.File("admin.token"), "admin-secret-4c1d\n");
        var yaml = File.ReadAllText(Path.Combine(AppContext.BaseDirectory, "examples", "openstack-controller.yaml"))
            .Replace("/etc/switchman/cluster.key", dir.File("cluster.key"), StringComparison.Ordinal)
            .Replace("/etc/switchman/admin.token", dir.File("admin.token"), StringComparison.Ordinal);

        var config = TestConfigs.LoadValid(yaml, dir.Path);

        var keystone = config.FindService("keystone")!;
        var controllers = new[] { config.Cluster!.NodeId }.Concat(config.Cluster.Peers.Select(p => p.Id)).ToList();
        Assert.Equal(["ctl1", "ctl2", "ctl3"], controllers);
        var backend = config.FindBackend(keystone.Backend!)!;
        Assert.All(controllers, node => Assert.Contains(backend.Servers, s => s.Name == keystone.ServerFor(node)));
        var ctl2 = backend.Servers.Single(s => s.Name == "ctl2");
        Assert.Equal("/usr/bin/uwsgi_python3 --http-socket 192.0.2.12:5001",
            string.Join(' ', keystone.Command.Take(3).Select(new ServicePlaceholders("ctl2", HostPort.TryParse(ctl2.Address, out var address, out _) ? address : null, "switchman").Fill)));
        Assert.Equal((ServicePlacement.Clone, "memcached"), (keystone.Placement, keystone.After.Single()));
        Assert.Equal("192.0.2.10/24", config.Vips.Single().Address);
    }

    [Fact]
    public void LoadYaml_ReferenceExample_HasNoErrors()
    {
        var markdown = File.ReadAllText(Path.Combine(AppContext.BaseDirectory, "docs", "configuration.md"));
        var yaml = FirstYamlBlock().Match(markdown).Groups["yaml"].Value;
        using var dir = new TempDirectory();
        TestCertificates.Write(dir.File("certs/example.com.pem"), dir.File("certs/example.com.key"));
        TestCertificates.Write(dir.File("certs/admin.pem"), dir.File("certs/admin.key"), "localhost");
        File.WriteAllText(dir.File("grafana.token"), "grafana-secret-7f3a9c\n");
        Environment.SetEnvironmentVariable("SWITCHMAN_CI_TOKEN", "ci-secret-51b2e8");
        File.WriteAllText(dir.File("cluster.key"), "cluster-secret-0d4e6a91b7c2\n");

        var config = TestConfigs.LoadValid(yaml, dir.Path);

        Assert.Equal(["public", "internal"], config.Frontends.Select(f => f.Name));
        Assert.Equal(["api", "static"], config.Backends.Select(b => b.Name));
        Assert.Equal(dir.File("certs/example.com.pem"), config.Frontends[0].Tls!.Certificates[0].Cert);
        Assert.Equal(["ops", "grafana", "ci"], config.Admin.Tokens.Select(t => t.Name));
        Assert.Equal(dir.File("certs/admin.pem"), config.Admin.Tls!.Cert);
        Assert.Equal(("lb1", dir.File("cluster.key")), (config.Cluster!.NodeId, config.Cluster.SecretFile));
        Assert.Equal(["lb2", "w1"], config.Cluster.Peers.Select(p => p.Id));
    }

    [GeneratedRegex("```yaml\n(?<yaml>.*?)```", RegexOptions.Singleline)]
    private static partial Regex FirstYamlBlock();
}
