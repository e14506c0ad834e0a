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
/// that talked to the VIP on the first host reaches the second at once, because the announcement updated its ARP entry.
/// </summary>
[Collection(NetworkLabCollection.Name)]
public sealed class VipMechanicsTests(ITestOutputHelper output)
{
    private const int Port = 8080;
    private static readonly VipAddress Vip = new(LabAddresses.Host(200), LabAddresses.PrefixLength);

    [Fact]
    public async Task A_vip_moved_and_announced_is_reached_on_its_new_host_at_once()
    {
        await using var lab = await NetworkLab.CreateAsync(["n1", "n2", "client"]);
        var (n1, n2, client) = (lab.Host("n1"), lab.Host("n2"), lab.Host("client"));
        var on1 = Addresses(n1);
        var on2 = Addresses(n2);

        await on1.AddAsync(Vip, "eth0", CancellationToken.None);
        await on1.AddAsync(Vip, "eth0", CancellationToken.None); // already there: fine
        Assert.True(await on1.HasAsync(Vip, "eth0", CancellationToken.None));
        Assert.False(await on2.HasAsync(Vip, "eth0", CancellationToken.None));
        Assert.Equal("n1", await AnswerAsync(client, n1, n2));
        Assert.Equal(await MacOfAsync(n1), await NeighbourMacAsync(client));

        await on1.RemoveAsync(Vip, "eth0", CancellationToken.None);
        await on1.RemoveAsync(Vip, "eth0", CancellationToken.None); // already gone: fine
        await on2.AddAsync(Vip, "eth0", CancellationToken.None);
        await on2.AnnounceAsync(Vip, "eth0", count: 1, CancellationToken.None);

        // The client's ARP entry now names n2: its next connection goes there without waiting for the entry to expire.
        Assert.Equal(await MacOfAsync(n2), await NeighbourMacAsync(client));
        Assert.Equal("n2", await AnswerAsync(client, n1, n2));
        Assert.False(await on1.HasAsync(Vip, "eth0", CancellationToken.None));
    }

    [Fact]
    public async Task An_unknown_interface_or_a_missing_capability_is_one_line_that_names_it()
    {
        await using var lab = await NetworkLab.CreateAsync(["n1"]);
        var name = lab.Host("n1").Namespace.Name;

        var unknown = await Assert.ThrowsAsync<VipHostException>(() => Addresses(lab.Host("n1")).AddAsync(Vip, "eth9", CancellationToken.None));
        Assert.Equal($"cannot add VIP {Vip} on eth9: interface eth9 does not exist on this node", unknown.Message);

        // As root without CAP_NET_ADMIN: what a service started without AmbientCapabilities=CAP_NET_ADMIN would meet.
        var withoutNetAdmin = new LinkAddresses(new NetworkTools(["setpriv", "--bounding-set=-net_admin", "ip", "-n", name], ["arping"], TimeProvider.System));
        var denied = await Assert.ThrowsAsync<VipHostException>(() => withoutNetAdmin.AddAsync(Vip, "eth0", CancellationToken.None));
        Assert.Equal($"cannot add VIP {Vip} on eth0: this node lacks CAP_NET_ADMIN (needed to add and remove addresses)", denied.Message);
        Assert.False(await Addresses(lab.Host("n1")).HasAsync(Vip, "eth0", CancellationToken.None));
    }

    private static LinkAddresses Addresses(LabHost host) => new(NetworkTools.InNamespace(host.Namespace.Name, TimeProvider.System));

    /// <summary>Connects from <paramref name="client"/> to the VIP and says which host accepted the connection.</summary>
    private async Task<string> AnswerAsync(LabHost client, params LabHost[] hosts)
    {
        // Each host listens on the VIP whether or not it holds it (IP_FREEBIND, as Switchman's frontends do).
        var listeners = new List<(LabHost Host, Socket Socket)>();
        try
        {
            foreach (var host in hosts)
            {
                var socket = await host.Namespace.CreateTcpSocketAsync();
                socket.SetRawSocketOption(0, 15, BitConverter.GetBytes(1)); // IP_FREEBIND
                socket.Bind(new IPEndPoint(Vip.Address, Port));
                socket.Listen(4);
                listeners.Add((host, socket));
            }
            using var connectLimit = new CancellationTokenSource(TimeSpan.FromSeconds(5));
            using var connection = await client.Namespace.ConnectAsync(new IPEndPoint(Vip.Address, Port), connectLimit.Token);
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
        var line = (await IpAsync("-n", host.Namespace.Name, "-o", "link", "show", "eth0")).Single();
        return line[(line.IndexOf("link/ether ", StringComparison.Ordinal) + 11)..].Split(' ')[0];
    }

    private static async Task<string?> NeighbourMacAsync(LabHost client)
    {
        var line = (await IpAsync("-n", client.Namespace.Name, "neigh", "show", Vip.Address.ToString())).SingleOrDefault(l => l.Contains("lladdr", StringComparison.Ordinal));
        return line?[(line.IndexOf("lladdr ", StringComparison.Ordinal) + 7)..].Split(' ')[0];
    }

    private static async Task<IReadOnlyList<string>> IpAsync(params string[] arguments)
    {
        var result = await NetworkTools.OnHost(TimeProvider.System).IpAsync(arguments, CancellationToken.None);
        Assert.True(result.Succeeded, result.Error);
        return result.Output.Split('\n', StringSplitOptions.RemoveEmptyEntries);
    }
}
