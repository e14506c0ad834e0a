using System.Net;
using Switchman.Testing;
using Switchman.Testing.Netns;

namespace Switchman.NetnsTests;

/// <summary>
/// The judge of "never two holders": <see cref="AddressTimeline"/> puts every address change of every host in the
/// kernel's own order, so it must find an overlap that lasted no time at all and must not find one in a move that
/// happened faster than any poll of the hosts one after the other could tell apart.
/// </summary>
[Collection(NetworkLabCollection.Name)]
public sealed class AddressTimelineTests
{
    private static readonly IPAddress Vip = LabAddresses.Host(200);

    [Fact]
    public async Task An_address_added_on_a_second_host_before_the_first_removed_it_is_an_overlap_however_short()
    {
        await using var lab = await NetworkLab.CreateAsync(["h1", "h2", "h3"]);
        using var timeline = await AddressTimeline.StartAsync(lab, [Vip]);

        // h1 holds it, h2 takes it before h1 let go (the commands follow each other within milliseconds), then h1 lets go.
        await AddAsync(lab, "h1");
        await AddAsync(lab, "h2");
        await RemoveAsync(lab, "h1");
        await Await.UntilAsync(() => timeline.Changes(Vip).Count == 3, TimeSpan.FromSeconds(10), "the three changes to be heard");

        Assert.Equal(2, timeline.MostAtOnce(Vip));
        var overlap = Assert.Single(timeline.Overlaps);
        Assert.Equal(["h1", "h2"], overlap.Holders);
        Assert.Equal(("h2", true), (overlap.Began.Host, overlap.Began.Added));
        Assert.Equal(("h1", false), (overlap.Ended!.Host, overlap.Ended.Added));
        Assert.Equal(["h2"], timeline.Holders(Vip));
        Assert.Empty(await timeline.VerifyAsync());
        Assert.Equal(0, timeline.LostNotifications);
    }

    [Fact]
    public async Task A_move_from_one_host_to_the_next_with_no_overlap_is_none_in_whatever_order_the_hosts_are()
    {
        await using var lab = await NetworkLab.CreateAsync(["h1", "h2", "h3"]);
        await AddAsync(lab, "h3");
        // Seeded from the hosts as they are: h3 holds it already.
        using var timeline = await AddressTimeline.StartAsync(lab, [Vip]);
        Assert.Equal(["h3"], timeline.Holders(Vip));

        // Back and forth, each removal before the next add: never two at once, however quickly it goes.
        foreach (var (from, to) in new[] { ("h3", "h1"), ("h1", "h2"), ("h2", "h3"), ("h3", "h2") })
        {
            await RemoveAsync(lab, from);
            await AddAsync(lab, to);
        }
        await Await.UntilAsync(() => timeline.Changes(Vip).Count == 8, TimeSpan.FromSeconds(10), "the eight changes to be heard");

        Assert.Equal(1, timeline.MostAtOnce(Vip));
        Assert.Empty(timeline.Overlaps);
        Assert.Equal(["h2"], timeline.Holders(Vip));
        Assert.Equal(["h3", "h1", "h1", "h2", "h2", "h3", "h3", "h2"], timeline.Changes(Vip).Select(c => c.Host));
        Assert.Empty(await timeline.VerifyAsync());
    }

    private static Task AddAsync(NetworkLab lab, string host) =>
        IpCommand.RunAsync("-n", lab.Host(host).Namespace.Name, "addr", "add", $"{Vip}/{LabAddresses.PrefixLength}", "dev", "eth0");

    private static Task RemoveAsync(NetworkLab lab, string host) =>
        IpCommand.RunAsync("-n", lab.Host(host).Namespace.Name, "addr", "del", $"{Vip}/{LabAddresses.PrefixLength}", "dev", "eth0");
}
