using Switchman.Core.Configuration;
using Switchman.Core.Configuration.Loading;
using Switchman.Core.Configuration.Validation;
using Switchman.Core.Configuration.Writing;

namespace Switchman.Core.Tests.Configuration;

/// <summary>The <c>services:</c> section: loading with defaults, the rules with their locations, the checks only a node can make, writing it back.</summary>
public sealed class ServiceConfigTests
{
    private static string WithServices(string services) => TestConfigs.Minimal() + "\nservices:\n" + services;

    [Fact]
    public void A_services_section_loads_with_its_defaults_and_writes_back_the_same()
    {
        var config = TestConfigs.LoadValid(WithServices("""
              cache:
                command: ["/bin/sleep", "600"]
              app:
                command: ["/bin/sh", "-c", "exec sleep 600", "{server_port}"]
                env: { APP_PORT: "{server_port}", MODE: fast }
                monitor: { http: "http://{server_address}/healthz", interval: 500ms, timeout: 200ms }
                backend: api
                server: a
                on_fail: stop
                migration_threshold: 5
                failure_timeout: 0
                stop_timeout: 3s
                after: [cache]
            """));

        var cache = config.FindService("cache")!;
        Assert.Equal(["/bin/sleep", "600"], cache.Command);
        Assert.Equal((ServicePlacement.Clone, ServiceMonitorType.Process, ServiceOnFail.Restart, 3, TimeSpan.FromMinutes(10), TimeSpan.FromSeconds(20), "{node}"),
            (cache.Placement, cache.Monitor.Type, cache.OnFail, cache.MigrationThreshold, cache.FailureTimeout, cache.StopTimeout, cache.Server));
        var app = config.FindService("app")!;
        Assert.Equal((ServiceMonitorType.Http, "http://{server_address}/healthz", TimeSpan.FromMilliseconds(500)), (app.Monitor.Type, app.Monitor.Target, app.Monitor.Interval));
        Assert.Equal(["APP_PORT", "MODE"], app.Env.Select(e => e.Name));
        Assert.Equal((ServiceOnFail.Stop, 5, TimeSpan.Zero), (app.OnFail, app.MigrationThreshold, app.FailureTimeout));
        Assert.Equal(["cache"], app.After);
        Assert.Equal(config, ConfigLoader.LoadYaml(ConfigWriter.ToYaml(config), "written.yaml", Path.GetTempPath()).Config);
    }

    [Fact]
    public void Every_broken_rule_is_an_error_at_its_field()
    {
        var result = TestConfigs.Load(WithServices("""
              a:
                command: []
                after: [b, ghost]
                backend: nope
              b:
                command: ["/bin/true"]
                after: [a]
                monitor: { http: "not a url" }
                on_fail: move
              c:
                command: ["/bin/true", "{port}"]
                monitor: { tcp: "{server_address}" }
                with_vip: api
              d:
                command: ["/usr/bin/my app --port 1"]
                migration_threshold: 0
            """));

        var errors = result.Errors.Select(e => (e.Path, e.Message)).ToList();
        Assert.Contains(errors, e => e.Path == "services.a.command" && e.Message.Contains("needs the program to run", StringComparison.Ordinal));
        Assert.Contains(errors, e => e.Path == "services.a.after[1]" && e.Message.StartsWith("service 'ghost' does not exist; defined services: a, b, c, d", StringComparison.Ordinal));
        Assert.Contains(errors, e => e.Path == "services.a.backend" && e.Message.StartsWith("backend 'nope' does not exist", StringComparison.Ordinal));
        Assert.Contains(errors, e => e.Path == "services.a.after" && e.Message.Contains("cycle (a → b → a)", StringComparison.Ordinal));
        Assert.Contains(errors, e => e.Path == "services.b.monitor.http" && e.Message.Contains("is not an http:// or https:// URL", StringComparison.Ordinal));
        Assert.Contains(errors, e => e.Path == "services.b.on_fail" && e.Message.Contains("'move' is for singletons", StringComparison.Ordinal));
        Assert.Contains(errors, e => e.Path == "services.c.command[1]" && e.Message.StartsWith("unknown placeholder {port}; known: {node}, {server_address}", StringComparison.Ordinal));
        Assert.Contains(errors, e => e.Path == "services.c.monitor.tcp" && e.Message.Contains("{server_address} needs the service's server", StringComparison.Ordinal));
        Assert.Contains(errors, e => e.Path == "services.c.with_vip" && e.Message.Contains("only a singleton", StringComparison.Ordinal));
        Assert.Contains(errors, e => e.Path == "services.d.command" && e.Message.Contains("one program name with spaces in it", StringComparison.Ordinal));
        Assert.Contains(errors, e => e.Path == "services.d.migration_threshold" && e.Message == "must be ≥ 1");
    }

    [Fact]
    public void An_error_points_at_its_line_and_a_missing_command_is_named()
    {
        TestConfigs.SingleError(WithServices("  app:\n    user: nobody\n"), 15, 3, "services.app", "missing required key 'command'");
        TestConfigs.SingleError(WithServices("  app:\n    command: [/bin/true]\n    monitor: { http: x, tcp: \"127.0.0.1:1\" }\n"), 17, 16, "services.app.monitor.http", "either http or tcp, not both");
    }

    [Fact]
    public void Only_switchman_check_and_the_node_a_change_is_sent_to_look_for_the_program_the_directory_the_user_and_the_server()
    {
        var plainFile = WriteTemp("not a program");
        var config = TestConfigs.LoadValid(WithServices($$"""
              gone:
                command: ["/no/such/program"]
              notexec:
                command: ["{{plainFile}}"]
              nopath:
                command: ["no-such-program-anywhere"]
              dir:
                command: ["/bin/true"]
                working_dir: /no/such/dir
                user: no-such-user-here
              mapped:
                command: ["/bin/true"]
                backend: api
            """));

        var errors = ServiceHostChecks.Check(config, "config").Select(e => (e.Path, e.Message)).ToList();

        Assert.Equal(
            [
                ("services.gone.command[0]", "program '/no/such/program' does not exist on this node"),
                ("services.notexec.command[0]", $"program '{plainFile}' is not executable (chmod +x)"),
                ("services.nopath.command[0]", "program 'no-such-program-anywhere' is not found in PATH on this node"),
                ("services.dir.working_dir", "directory '/no/such/dir' does not exist on this node"),
                ("services.dir.user", "user 'no-such-user-here' does not exist on this node"),
                ("services.mapped.server", $"backend 'api' has no server '{Environment.MachineName}' for the instance on node '{Environment.MachineName}'; servers: a, b"),
            ],
            errors);
        // The shared rules alone accept it: a node applying a committed change does not refuse it for what it lacks.
        Assert.Empty(ConfigValidator.Validate(config, "config"));
        Assert.Contains(ConfigLoader.LoadFile(WriteTemp(ConfigWriter.ToYaml(config)), checkHost: true).Errors, e => e.Path == "services.gone.command[0]" && e.Line > 0);
    }

    [Fact]
    public void Placeholders_are_filled_for_one_node()
    {
        var placeholders = new ServicePlaceholders("n2", new HostPort("192.0.2.12", 5001), "/usr/bin/switchman");

        Assert.Equal("n2 192.0.2.12:5001 192.0.2.12 5001 /usr/bin/switchman {other}",
            placeholders.Fill("{node} {server_address} {server_host} {server_port} {switchman} {other}"));
        Assert.Equal("ks-n2", new ServiceConfig { Name = "ks", Server = "ks-{node}" }.ServerFor("n2"));
    }

    private static string WriteTemp(string yaml)
    {
        var path = Path.Combine(Path.GetTempPath(), $"services-{Guid.NewGuid():N}.yaml");
        File.WriteAllText(path, yaml);
        return path;
    }
}
