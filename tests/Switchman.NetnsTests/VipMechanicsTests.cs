using System.Net;
using System.Net.Sockets;
using Switchman.Core.Configuration;
using Switchman.Testing;
using Switchman.Testing.Netns;
using Switchman.Vips;
using Xunit.Abstractions;

namespace Switchman.NetnsTests;

/// <summary>
/// Putting a VIP on a host, moving it to another and announcing it, on hosts built from network namespaces: a client
/// that talked to the VIP on the first host reaches the second at once, because the announcement (gratuitous ARP for
/// IPv4, an unsolicited neighbour advertisement for IPv6) updated its neighbour entry.
/// </summary>
[Collection(NetworkLabCollection.Name)]
public sealed class VipMechanicsTests(ITestOutputHelper output)
{
    private const int Port = 8080;
    private static readonly VipAddress Vip = new(LabAddresses.Host(200), LabAddresses.PrefixLength);
    private static readonly VipAddress Vip6 = new(LabAddresses.HostIPv6(0x200), 64);

    /// <summary>The announcement is sent when asked; the client's kernel takes it in within microseconds, so this is generous.</summary>
    private static readonly TimeSpan NeighbourUpdate = TimeSpan.FromSeconds(1);

    [Fact]
    public Task An_ipv4_vip_moved_and_announced_is_reached_on_its_new_host_at_once() => MoveAndAnnounceAsync(Vip);

    [Fact]
    public async Task An_ipv6_vip_moved_and_announced_is_reached_on_its_new_host_at_once()
    {
        await MoveAndAnnounceAsync(Vip6, async lab =>
        {
            // The client needs an address on the VIP's prefix to reach it; nodad: usable at once.
            var client = lab.Host("client").Namespace.Name;
            await IpCommand.RunAsync("-n", client, "addr", "add", $"{LabAddresses.HostIPv6(0x254)}/64", "dev", "eth0", "nodad");
        });
    }

    [Fact]
    public async Task An_unknown_interface_is_one_line_that_names_it()
    {
        await using var lab = await NetworkLab.CreateAsync(["n1"]);
        using var links = Links(lab.Host("n1"));
        var on1 = new LinkAddresses(links, TimeProvider.System);

        foreach (var (action, step) in new (string, Func<Task>)[]
        {
            ("add", () => on1.AddAsync(Vip, "eth9", CancellationToken.None)),
            ("remove", () => on1.RemoveAsync(Vip, "eth9", CancellationToken.None)),
            ("look for", () => on1.HasAsync(Vip, "eth9", CancellationToken.None)),
            ("announce", () => on1.AnnounceAsync(Vip, "eth9", count: 1, CancellationToken.None)),
        })
        {
            var unknown = await Assert.ThrowsAsync<VipHostException>(step);
            Assert.Equal($"cannot {action} VIP {Vip} on eth9: interface eth9 does not exist on this node", unknown.Message);
        }
        // The missing CAP_NET_ADMIN needs a process without it: VipPlacementFaultTests runs a node under setpriv.
    }

    [Fact]
    public async Task Announcing_an_address_the_host_does_not_have_is_refused()
    {
        await using var lab = await NetworkLab.CreateAsync(["n1"]);
        using var links = Links(lab.Host("n1"));
        var failure = await Assert.ThrowsAsync<VipHostException>(() => links.AnnounceAsync(Vip, "eth0", CancellationToken.None));
        Assert.Equal($"cannot announce VIP {Vip} on eth0: the address is not on eth0", failure.Message);
    }

    private async Task MoveAndAnnounceAsync(VipAddress vip, Func<NetworkLab, Task>? prepare = null)
    {
        await using var lab = await NetworkLab.CreateAsync(["n1", "n2", "client"]);
        if (prepare is not null)
        {
            await prepare(lab);
        }
        var (n1, n2, client) = (lab.Host("n1"), lab.Host("n2"), lab.Host("client"));
        // Disposed before the lab: an open packet socket would keep a host's namespace (and its link) alive.
        using var links1 = Links(n1);
        using var links2 = Links(n2);
        var (on1, on2) = (new LinkAddresses(links1, TimeProvider.System), new LinkAddresses(links2, TimeProvider.System));

        await on1.AddAsync(vip, "eth0", CancellationToken.None);
        await on1.AddAsync(vip, "eth0", CancellationToken.None); // already there: fine
        Assert.True(await on1.HasAsync(vip, "eth0", CancellationToken.None));
        Assert.False(await on2.HasAsync(vip, "eth0", CancellationToken.None));
        Assert.Equal("n1", await AnswerAsync(vip, client, n1, n2));
        Assert.Equal(await MacOfAsync(n1), await NeighbourMacAsync(client, vip));

        await on1.RemoveAsync(vip, "eth0", CancellationToken.None);
        await on1.RemoveAsync(vip, "eth0", CancellationToken.None); // already gone: fine
        Assert.False(await on1.HasAsync(vip, "eth0", CancellationToken.None));
        await on2.AddAsync(vip, "eth0", CancellationToken.None);
        await on2.AnnounceAsync(vip, "eth0", count: 1, CancellationToken.None);

        // The client's entry now names n2: its next connection goes there without waiting for the entry to expire
        // (without the announcement it would keep n1's address for seconds: reachable, then stale, then probed).
        var n2Mac = await MacOfAsync(n2);
        await Await.UntilAsync(async () => await NeighbourMacAsync(client, vip) == n2Mac, NeighbourUpdate, $"the client's entry for {vip.Address} to name n2 ({n2Mac})");
        Assert.Equal("n2", await AnswerAsync(vip, client, n1, n2));
        Assert.False(await on1.HasAsync(vip, "eth0", CancellationToken.None));
    }

    private static LinkOperations Links(LabHost host) => LinkOperations.InNamespace(host.Namespace.Name, TimeProvider.System);

    /// <summary>Connects from <paramref name="client"/> to the VIP and says which host accepted the connection.</summary>
    private async Task<string> AnswerAsync(VipAddress vip, LabHost client, params LabHost[] hosts)
    {
        // Each host listens on the VIP whether or not it holds it (IP_FREEBIND, as Switchman's frontends do).
        var listeners = new List<(LabHost Host, Socket Socket)>();
        try
        {
            foreach (var host in hosts)
            {
                var socket = await host.Namespace.CreateTcpSocketAsync(vip.Address.AddressFamily);
                if (vip.IsIPv6)
                {
                    socket.SetRawSocketOption(41, 78, BitConverter.GetBytes(1)); // IPPROTO_IPV6, IPV6_FREEBIND
                }
                else
                {
                    socket.SetRawSocketOption(0, 15, BitConverter.GetBytes(1)); // IPPROTO_IP, IP_FREEBIND
                }
                socket.Bind(new IPEndPoint(vip.Address, Port));
                socket.Listen(4);
                listeners.Add((host, socket));
            }
            using var connectLimit = new CancellationTokenSource(TimeSpan.FromSeconds(5));
            using var connection = await client.Namespace.ConnectAsync(new IPEndPoint(vip.Address, Port), connectLimit.Token);
            foreach (var (host, socket) in listeners)
            {
                if (socket.Poll(TimeSpan.FromSeconds(1), SelectMode.SelectRead))
                {
                    using var accepted = await socket.AcceptAsync();
                    output.WriteLine($"the VIP answered on {host.Name}");
                    return host.Name;
                }
            }
            return "nobody";
        }
        finally
        {
            foreach (var (_, socket) in listeners)
            {
                socket.Dispose();
            }
        }
    }

    private static async Task<string> MacOfAsync(LabHost host)
    {
        var line = (await IpCommand.RunAsync("-n", host.Namespace.Name, "-o", "link", "show", "eth0")).Single();
        return line[(line.IndexOf("link/ether ", StringComparison.Ordinal) + 11)..].Split(' ')[0];
    }

    /// <summary>The MAC address the client's neighbour table (ARP, or IPv6 neighbour discovery) has for the VIP.</summary>
    private static async Task<string?> NeighbourMacAsync(LabHost client, VipAddress vip)
    {
        var lines = await IpCommand.RunAsync("-n", client.Namespace.Name, vip.IsIPv6 ? "-6" : "-4", "neigh", "show", vip.Address.ToString(), "dev", "eth0");
        var line = lines.SingleOrDefault(l => l.Contains("lladdr", StringComparison.Ordinal));
        return line?[(line.IndexOf("lladdr ", StringComparison.Ordinal) + 7)..].Split(' ')[0];
    }
}
