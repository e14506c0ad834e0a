using Switchman.Core.Changes;
using Switchman.Core.Configuration;

namespace Switchman.Core.Tests.Changes;

/// <summary>What `switchman config diff`, a reload and the API say a new configuration changes.</summary>
public sealed class ConfigDiffTests
{
    private static readonly ServiceConfig Keystone = new()
    {
        Name = "keystone",
        Command = ValueList.Create("/usr/bin/uwsgi_python3", "--http-socket", "{server_address}"),
        Backend = "keystone",
    };

    private static readonly ServiceConfig Memcached = new() { Name = "memcached", Command = ValueList.Create("/usr/bin/memcached") };

    [Fact]
    public void A_service_whose_command_changes_is_named_with_the_restart_it_causes()
    {
        var before = new SwitchmanConfig { Services = ValueList.Create(Keystone, Memcached) };
        var after = before with
        {
            Services = ValueList.Create(
                Keystone with { Command = ValueList.Create([.. Keystone.Command, "--add-header", "Connection: close"]), StopTimeout = TimeSpan.FromSeconds(5) },
                Memcached with { StopTimeout = TimeSpan.FromSeconds(5) }),
        };

        Assert.Equal(
            ["service keystone changed: command (its instances restart, all at once), settings changed", "service memcached changed: settings changed"],
            ConfigDiff.Between(before, after).Changes);
    }

    [Fact]
    public void Services_and_vips_added_and_removed_are_named()
    {
        var api = new VipConfig { Name = "api", Address = "192.0.2.10/24", Interface = "eth0" };
        var before = new SwitchmanConfig { Services = ValueList.Create(Memcached), Vips = ValueList.Create(api) };
        var after = new SwitchmanConfig
        {
            Services = ValueList.Create(Keystone),
            Vips = ValueList.Create(api with { Preempt = true }, new VipConfig { Name = "api2", Address = "192.0.2.11/24", Interface = "eth0" }),
        };

        Assert.Equal(
            ["vip api changed", "vip api2 added", "service keystone added", "service memcached removed"],
            ConfigDiff.Between(before, after).Changes);
        Assert.Equal("no changes", ConfigDiff.Between(after, after).Summary);
    }
}
