using Switchman.Core.Configuration;
using Switchman.Core.Configuration.Loading;
using Switchman.Core.Configuration.Writing;

namespace Switchman.Core.Tests.Configuration;

/// <summary>The <c>vips:</c> section: loading, the validator's rules with their locations, writing it back.</summary>
public sealed class VipConfigTests
{
    private const string Pool = """
        vips:
          - name: api
            address: 192.0.2.10/24
            interface: eth0
            nodes: [lb1, lb2]
            preempt: true
          - { name: web-a, address: 2001:db8::a/64, interface: br0, pool: web }
          - { name: web-b, address: 192.0.2.11/24, interface: br0, pool: web }
        """;

    [Fact]
    public void A_vips_section_loads_with_its_defaults_and_writes_back_the_same()
    {
        var config = TestConfigs.LoadValid(Pool);

        Assert.Equal(["api", "web-a", "web-b"], config.Vips.Select(v => v.Name));
        var api = config.Vips[0];
        Assert.Equal(("192.0.2.10/24", "eth0", true, (string?)null), (api.Address, api.Interface, api.Preempt, api.Pool));
        Assert.Equal(["lb1", "lb2"], api.Nodes);
        Assert.Equal((false, "web"), (config.Vips[1].Preempt, config.Vips[1].Pool));
        Assert.Empty(config.Vips[1].Nodes);
        Assert.Equal(config, ConfigLoader.LoadYaml(ConfigWriter.ToYaml(config), "written.yaml", Path.GetTempPath()).Config);
    }

    [Theory]
    [InlineData("192.0.2.10", "needs a prefix length, such as 192.0.2.10/24")]
    [InlineData("192.0.2.300/24", "'192.0.2.300' is not an IPv4 or IPv6 address")]
    [InlineData("192.0.2.10/33", "the prefix length must be a whole number from 1 to 32")]
    [InlineData("2001:db8::1/129", "from 1 to 128")]
    [InlineData("127.0.0.5/8", "cannot be a floating address")]
    [InlineData("224.0.0.18/24", "cannot be a floating address")]
    public void A_bad_address_is_an_error_at_its_line(string address, string message) =>
        TestConfigs.SingleError($"vips:\n  - name: api\n    address: {address}\n    interface: eth0\n", 3, 5, "vips[0].address", message);

    [Fact]
    public void Names_and_addresses_are_unique_interfaces_are_interface_names_and_nodes_are_listed_once()
    {
        var result = TestConfigs.Load("""
            vips:
              - { name: api, address: 192.0.2.10/24, interface: eth0 }
              - { name: api, address: 192.0.2.10/24, interface: "eth 0" }
              - { name: other, address: 192.0.2.12/24, interface: averyveryverylongname, nodes: [lb1, lb1] }
            """);

        Assert.Equal(
            [
                ("vips[1].name", "VIP 'api' is declared twice"),
                ("vips[1].address", "192.0.2.10 is already the address of VIP 'api'"),
                ("vips[1].interface", "'eth 0' is not a network interface name (1 to 15 characters, no '/' or spaces)"),
                ("vips[2].interface", "'averyveryverylongname' is not a network interface name (1 to 15 characters, no '/' or spaces)"),
                ("vips[2].nodes[1]", "node 'lb1' is listed twice"),
            ],
            result.Errors.Select(e => (e.Path, e.Message)));
    }

    [Fact]
    public void A_vip_without_its_interface_or_with_an_unknown_key_is_refused()
    {
        TestConfigs.SingleError("vips:\n  - { name: api, address: 192.0.2.10/24 }\n", 2, 5, "vips[0]", "interface");
        TestConfigs.SingleErrorAt("vips:\n  - { name: api, address: 192.0.2.10/24, interface: eth0, prempt: true }\n", "vips[0].prempt", "prempt");
    }

    [Fact]
    public void A_node_names_its_own_interface_for_a_vip_which_stays_on_the_node_and_is_written_back()
    {
        var config = TestConfigs.LoadValid(Pool + "\nvip_interfaces:\n  api: ens3\n");

        Assert.Equal("ens3", config.InterfaceFor(config.Vips[0]));
        Assert.Equal("br0", config.InterfaceFor(config.Vips[1]));
        Assert.Equal(config, ConfigLoader.LoadYaml(ConfigWriter.ToYaml(config), "written.yaml", Path.GetTempPath()).Config);
        // Node-local: not in what is replicated, and the node keeps its own when a shared change comes in.
        var shared = Switchman.Core.Changes.NodeLocalSections.Strip(config);
        Assert.Empty(shared.VipInterfaces);
        Assert.Equal("ens3", Switchman.Core.Changes.NodeLocalSections.Fill(shared, config).InterfaceFor(config.Vips[0]));
        Assert.Equal("vip_interfaces", Switchman.Core.Changes.NodeLocalSections.RefuseStartupOnlyChange(
            config with { VipInterfaces = ValueList.Create(new VipInterfaceConfig { Vip = "api", Interface = "eth9" }) }, config)?.Path);
        Assert.Null(Switchman.Core.Changes.NodeLocalSections.RefuseStartupOnlyChange(config, config));
    }

    [Fact]
    public void An_interface_override_must_name_a_configured_vip_and_an_interface()
    {
        var result = TestConfigs.Load(Pool + "\nvip_interfaces:\n  apii: ens3\n  web-a: \"e n\"\n");

        Assert.Equal(
            [
                ("vip_interfaces.apii", "there is no VIP 'apii'; configured VIPs: api, web-a, web-b"),
                ("vip_interfaces.web-a", "'e n' is not a network interface name (1 to 15 characters, no '/' or spaces)"),
            ],
            result.Errors.Select(e => (e.Path, e.Message)));
    }
}
