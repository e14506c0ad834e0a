using System.Diagnostics.Metrics;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Time.Testing;
using Switchman.Admin.Control;
using Switchman.Admin.Vips;
using Switchman.Core.Changes;
using Switchman.Core.Configuration;
using Switchman.Testing;
using Switchman.Vips;

namespace Switchman.AdminTests;

/// <summary>
/// The VIP keeper against link operations and a membership of our own making, for what the fault campaign found
/// (docs/reliability.md): a keeper frozen in the middle of taking a VIP, and one that comes back from a stall.
/// </summary>
public sealed class VipKeeperTests : IDisposable
{
    private static readonly TimeSpan Limit = TimeSpan.FromSeconds(10);

    private readonly TempDirectory _directory = new("switchman-keeper");

    public void Dispose() => _directory.Dispose();

    [Fact]
    public async Task A_keeper_frozen_while_it_adds_the_address_leaves_it_guarded_and_the_guard_removes_it_when_the_right_ends()
    {
        // The add never returns, as for a process frozen (SIGSTOP) right after the kernel took the address, and the
        // right ends meanwhile: only the guard can remove it, so it must be armed before the address is added.
        var removals = _directory.Combine("removed");
        var links = new FakeLinks(["sh", "-c", "echo \"$*\" >> \"$0\"", removals]) { AddTakes = Timeout.InfiniteTimeSpan };
        var membership = new FakeMembership { Right = TimeSpan.FromMilliseconds(300) };
        await using var keeper = await StartedAsync(links, membership, TimeProvider.System);

        await Await.UntilAsync(() => links.Adds > 0, Limit, "the keeper to add the address");
        membership.Right = TimeSpan.Zero;
        await Await.UntilAsync(() => File.Exists(removals) && File.ReadAllText(removals).Contains("addr del 192.0.2.10/24 dev eth0", StringComparison.Ordinal),
            Limit, "the guard to remove the address the frozen keeper added");
    }

    [Fact]
    public async Task An_add_slower_than_the_right_read_before_it_keeps_its_address_while_the_right_is_renewed()
    {
        // A leader's right reaches 75 ms ahead and is renewed by every heartbeat round; the first add after a cluster
        // starts took 86 ms once (compiled as it ran). The guard is kept at the right's end while the add runs, so it
        // does not remove the address the add is putting on.
        var removals = _directory.Combine("removed");
        var links = new FakeLinks(["sh", "-c", "echo \"$*\" >> \"$0\"", removals]) { AddTakes = TimeSpan.FromMilliseconds(300) };
        var membership = new FakeMembership { Right = TimeSpan.FromMilliseconds(75) };
        await using var keeper = await StartedAsync(links, membership, TimeProvider.System);

        await Await.UntilAsync(() => keeper.Keeper.Held.ContainsKey("api"), Limit, "the VIP to be taken");
        var looks = membership.Reports;
        await Await.UntilAsync(() => membership.Reports > looks + 10, Limit, "ten more looks");
        Assert.True(keeper.Keeper.Held.ContainsKey("api"));
        Assert.False(File.Exists(removals), $"the guard removed the address: {(File.Exists(removals) ? File.ReadAllText(removals) : "")}");
        Assert.DoesNotContain(keeper.Events.Since(0), e => e.Type == "vip_released");
        Assert.Equal(1, links.Adds);
    }

    [Fact]
    public async Task After_a_stall_the_keeper_holds_and_takes_no_vip_for_a_while_though_its_right_says_it_may()
    {
        // What a leader reads just after a stall looks fresh (bytes that waited in the kernel), so the right it computes
        // then can be stale: here the membership (a leader's) says 10 s throughout, and only the keeper's own clock tells the stall.
        var (time, links, membership) = (new FakeTimeProvider(), new FakeLinks(["true"]), new FakeMembership { Right = TimeSpan.FromSeconds(10), RightStaleAfterStall = true });
        await using var keeper = await StartedAsync(links, membership, time);
        var (removes, _) = await HeldThenStalledAsync(keeper, links, membership, time);

        await Await.UntilAsync(() => !keeper.Keeper.Held.ContainsKey("api") && links.Removes > removes, Limit, "the VIP to be released after the stall");
        var adds = links.Adds;
        for (var i = 0; i < 9; i++)
        {
            time.Advance(TimeSpan.FromMilliseconds(10));
            await Task.Delay(20);
        }
        Assert.Equal(adds, links.Adds);
        Assert.False(keeper.Keeper.Held.ContainsKey("api"));

        // The quarantine over (100 ms of the keeper's clock), it takes the VIP again.
        await AdvanceUntilAsync(time, () => keeper.Keeper.Held.ContainsKey("api"), "the VIP to be taken again after the quarantine");
    }

    [Fact]
    public async Task After_a_stall_a_keeper_whose_right_a_stall_cannot_refresh_keeps_its_vip()
    {
        // A follower's grant counts from when it sent its ping: a stall ages it, never refreshes it.
        var (time, links, membership) = (new FakeTimeProvider(), new FakeLinks(["true"]), new FakeMembership { Right = TimeSpan.FromSeconds(10), RightStaleAfterStall = false });
        await using var keeper = await StartedAsync(links, membership, time);
        var (removes, looks) = await HeldThenStalledAsync(keeper, links, membership, time);

        await Await.UntilAsync(() => membership.Reports > looks, Limit, "the look after the stall");
        Assert.True(keeper.Keeper.Held.ContainsKey("api"));
        Assert.Equal(removes, links.Removes);
    }

    [Fact]
    public async Task A_right_in_its_last_moments_is_over_for_the_keeper_it_lets_go_saying_lease_lost_and_takes_nothing_under_it()
    {
        // The guard reads a clock in hundredths of a second and may act up to 10 ms before the right's end. Found in the
        // netns suite: a leader cut off from the others had its address removed by its guard a few milliseconds before
        // its own look, which then said "its guard removed it: this process did not renew it within its lease" (a stall
        // that never happened) and took the VIP again for what was left. Here the right drops to 5 ms and stays there,
        // as a lease nobody renews does in its last look.
        var (time, links, membership) = (new FakeTimeProvider(), new FakeLinks(["true"]), new FakeMembership { Right = TimeSpan.FromSeconds(10) });
        await using var keeper = await StartedAsync(links, membership, time);
        await AdvanceUntilAsync(time, () => keeper.Keeper.Held.ContainsKey("api"), "the VIP to be taken");
        var adds = links.Adds;

        membership.Right = TimeSpan.FromMilliseconds(5);
        await AdvanceUntilAsync(time, () => !keeper.Keeper.Held.ContainsKey("api"), "the VIP to be released");
        var looks = membership.Reports;
        await AdvanceUntilAsync(time, () => membership.Reports > looks + 5, "five more looks");

        var released = Assert.Single(keeper.Events.Since(0), e => e.Type == "vip_released");
        Assert.Equal("VIP api (192.0.2.10/24) released: lease lost", released.Message);
        Assert.Equal(adds, links.Adds);
    }

    [Fact]
    public void A_right_asked_for_before_the_keeper_looked_after_a_stall_is_withheld_too()
    {
        // The singleton's supervisor may ask first when the process comes back (found by the fault campaign: a leader
        // frozen 1.6 s started its singleton again for ~40 ms); a follower's right is never withheld.
        var time = new FakeTimeProvider();
        var leader = new StallFence(new FakeMembership { Right = TimeSpan.FromSeconds(10), RightStaleAfterStall = true }, time);
        var follower = new StallFence(new FakeMembership { Right = TimeSpan.FromSeconds(10) }, time);
        Assert.Null(leader.Beat(0));
        Assert.Null(follower.Beat(0));
        Assert.Equal(TimeSpan.FromSeconds(10), leader.RightRemaining());

        time.Advance(TimeSpan.FromSeconds(5));
        Assert.Equal(TimeSpan.Zero, leader.RightRemaining());
        Assert.Equal(TimeSpan.FromSeconds(10), follower.RightRemaining());
        // The keeper's look, late: the stall is said once; the quarantine runs its 100 ms from when it began.
        Assert.NotNull(leader.Beat(time.GetTimestamp() - time.TimestampFrequency));
        time.Advance(TimeSpan.FromMilliseconds(50));
        Assert.Null(leader.Beat(time.GetTimestamp()));
        Assert.Equal(TimeSpan.Zero, leader.RightRemaining());
        time.Advance(TimeSpan.FromMilliseconds(60));
        Assert.Null(leader.Beat(time.GetTimestamp()));
        Assert.Equal(TimeSpan.FromSeconds(10), leader.RightRemaining());
    }

    /// <summary>
    /// Waits until the VIP is held and one more whole look went by with the keeper waiting for its next tick (it
    /// reports after each look), then stalls it: 5 s of its clock at once. Returns the removals (its start removed what
    /// an earlier run might have left) and the looks before the stall.
    /// </summary>
    private static async Task<(int Removes, int Looks)> HeldThenStalledAsync(RunningKeeper keeper, FakeLinks links, FakeMembership membership, FakeTimeProvider time)
    {
        await AdvanceUntilAsync(time, () => keeper.Keeper.Held.ContainsKey("api"), "the VIP to be taken");
        var looks = membership.Reports;
        await AdvanceUntilAsync(time, () => membership.Reports > looks + 1, "another look");
        await Task.Delay(100);
        var before = (links.Removes, membership.Reports);
        time.Advance(TimeSpan.FromSeconds(5));
        return before;
    }

    [Fact]
    public async Task A_failure_of_the_keepers_own_loop_stops_the_node_it_runs_in_and_names_the_keeper()
    {
        // Whatever goes wrong in the loop (here the state cannot be read): a node whose VIPs nobody keeps must not go on
        // as if healthy. As a background service of the node the keeper's failure stops the host, which is what makes
        // `switchman run` exit 1 (NodeHost.Failures, PartFailureTests); before, the loop died and the node went on.
        var log = new BreakableLog(SharedState.Empty);
        using var services = new ServiceCollection().AddMetrics().BuildServiceProvider();
        var keeper = new VipKeeper(log, new LinkAddresses(new FakeLinks(["true"]), TimeProvider.System), new NodeEvents(TimeProvider.System),
            TimeProvider.System, NullLogger<VipKeeper>.Instance, services.GetRequiredService<IMeterFactory>(), new FakeMembership());
        var builder = Host.CreateEmptyApplicationBuilder(new HostApplicationBuilderSettings());
        builder.Services.AddHostedService(_ => keeper);
        using var host = builder.Build();
        await host.StartAsync();

        log.Broken = new InvalidOperationException("the state cannot be read");
        keeper.Wake();

        await host.WaitForShutdownAsync().WaitAsync(Limit);
        Assert.True(keeper.ExecuteTask is { IsFaulted: true }, "the keeper's loop did not fail");
        Assert.Equal("the state cannot be read", keeper.ExecuteTask.Exception!.GetBaseException().Message);
    }

    private static Task AdvanceUntilAsync(FakeTimeProvider time, Func<bool> condition, string what) =>
        Await.AdvancingUntilAsync(time, TimeSpan.FromMilliseconds(10), condition, Limit, what);

    private static async Task<RunningKeeper> StartedAsync(FakeLinks links, FakeMembership membership, TimeProvider time)
    {
        var state = SharedState.Empty.Apply(new ApplyConfigCommand
        {
            ChangeId = "c1", Author = "ops", ProposedAt = DateTimeOffset.UnixEpoch, ExpectedRevision = 0,
            Config = new SwitchmanConfig { Vips = ValueList.Create(new VipConfig { Name = "api", Address = "192.0.2.10/24", Interface = "eth0" }) },
        }, 1).Apply(new AssignVipCommand { ChangeId = "a1", Author = "leader", ProposedAt = DateTimeOffset.UnixEpoch, Vip = "api", Node = "lb1", Term = 1, Reason = "placed" }, 2);
        var services = new ServiceCollection().AddMetrics().BuildServiceProvider();
        var events = new NodeEvents(time);
        var keeper = new VipKeeper(
            new FixedLog(state), new LinkAddresses(links, time), events, time, NullLogger<VipKeeper>.Instance, services.GetRequiredService<IMeterFactory>(), membership);
        await keeper.StartAsync(CancellationToken.None);
        return new RunningKeeper(keeper, events, services);
    }

    private sealed class RunningKeeper(VipKeeper keeper, NodeEvents events, ServiceProvider services) : IAsyncDisposable
    {
        public VipKeeper Keeper => keeper;

        /// <summary>What the keeper published: taken, released, and why.</summary>
        public NodeEvents Events => events;

        public async ValueTask DisposeAsync()
        {
            await keeper.StopAsync(CancellationToken.None);
            await keeper.DisposeAsync();
            await services.DisposeAsync();
        }
    }

    /// <summary>Counts adds and removes; an add can be made slow, or to hang until the keeper stops.</summary>
    private sealed class FakeLinks(IReadOnlyList<string> ipCommandLine) : ILinkOperations
    {
        private int _adds;
        private int _removes;

        /// <summary>How long an add takes (<see cref="Timeout.InfiniteTimeSpan"/>: until the keeper stops).</summary>
        public TimeSpan AddTakes { get; init; }

        public int Adds => Volatile.Read(ref _adds);

        public int Removes => Volatile.Read(ref _removes);

        public IReadOnlyList<string> IpCommandLine => ipCommandLine;

        public async Task AddAsync(VipAddress vip, string device, CancellationToken cancellationToken)
        {
            Interlocked.Increment(ref _adds);
            if (AddTakes != TimeSpan.Zero)
            {
                await Task.Delay(AddTakes, cancellationToken);
            }
        }

        public Task RemoveAsync(VipAddress vip, string device, CancellationToken cancellationToken)
        {
            Interlocked.Increment(ref _removes);
            return Task.CompletedTask;
        }

        public Task<bool> HasAsync(VipAddress vip, string device, CancellationToken cancellationToken) => Task.FromResult(false);

        public Task AnnounceAsync(VipAddress vip, string device, CancellationToken cancellationToken) => Task.CompletedTask;
    }

    /// <summary>lb1, whose right to hold is whatever the test says.</summary>
    private sealed class FakeMembership : IVipMembership
    {
        public TimeSpan Right { get; set; }

        public string NodeId => "lb1";

        public long Term => 1;

        public CancellationToken RightEnds => CancellationToken.None;

        /// <summary>True as a leader's: its right may look live just after a stall.</summary>
        public bool RightStaleAfterStall { get; init; }

        public TimeSpan RightRemaining() => Right;

        private int _reports;

        /// <summary>How many times the keeper reported: once per look.</summary>
        public int Reports => Volatile.Read(ref _reports);

        public void Report(long index) => Interlocked.Increment(ref _reports);

        public Task<CancellationToken> WaitForLeadershipAsync(CancellationToken cancellationToken) => Task.FromResult(CancellationToken.None);

        public IReadOnlyList<string> ReachableHolders() => ["lb1"];

        public bool IsReachable(string node) => node == "lb1";

        public void Revoke(string node, long releaseIndex)
        {
        }

        public void Suspend(string node)
        {
        }

        public void Resume(string node)
        {
        }

        public bool SurelyReleased(string node, long releaseIndex, TimeSpan extra = default) => true;

        public bool MembershipSettled() => true;
    }

    /// <summary>A log whose state can no longer be read once <see cref="Broken"/> is set.</summary>
    private sealed class BreakableLog(SharedState state) : IChangeLog
    {
        public volatile Exception? Broken;

        public bool IsReplicated => true;

        public SharedState State => Broken is { } broken ? throw broken : state;

        public event Action<SharedState>? StateApplied
        {
            add { }
            remove { }
        }

        public Task CatchUpAsync(CancellationToken cancellationToken) => Task.CompletedTask;

        public Task<AppendResult> AppendAsync(ChangeCommand command, CancellationToken cancellationToken) => throw new NotSupportedException();
    }

    private sealed class FixedLog(SharedState state) : IChangeLog
    {
        public bool IsReplicated => true;

        public SharedState State => state;

        public event Action<SharedState>? StateApplied
        {
            add { }
            remove { }
        }

        public Task CatchUpAsync(CancellationToken cancellationToken) => Task.CompletedTask;

        public Task<AppendResult> AppendAsync(ChangeCommand command, CancellationToken cancellationToken) => throw new NotSupportedException();
    }
}
