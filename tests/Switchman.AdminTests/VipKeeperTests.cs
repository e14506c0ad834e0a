using System.Diagnostics.Metrics;
using Microsoft.Extensions.DependencyInjection;
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
        // The add never returns, as for a process frozen (SIGSTOP) right after the kernel took the address: only the
        // guard can remove it, so it must be armed with the lease's end before the address is added.
        var removals = _directory.Combine("removed");
        var links = new FakeLinks(["sh", "-c", "echo \"$*\" >> \"$0\"", removals]) { HangAdds = true };
        var membership = new FakeMembership { Right = TimeSpan.FromMilliseconds(300) };
        await using var keeper = await StartedAsync(links, membership, TimeProvider.System);

        await Await.UntilAsync(() => links.Adds > 0, Limit, "the keeper to add the address");
        await Await.UntilAsync(() => File.Exists(removals) && File.ReadAllText(removals).Contains("addr del 192.0.2.10/24 dev eth0", StringComparison.Ordinal),
            Limit, "the guard to remove the address the frozen keeper added");
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

    private static async Task AdvanceUntilAsync(FakeTimeProvider time, Func<bool> condition, string what)
    {
        await Await.UntilAsync(() =>
        {
            time.Advance(TimeSpan.FromMilliseconds(10));
            return condition();
        }, Limit, what);
    }

    private static async Task<RunningKeeper> StartedAsync(FakeLinks links, FakeMembership membership, TimeProvider time)
    {
        var state = SharedState.Empty.Apply(new ApplyConfigCommand
        {
            ChangeId = "c1", Author = "ops", ProposedAt = DateTimeOffset.UnixEpoch, ExpectedRevision = 0,
            Config = new SwitchmanConfig { Vips = ValueList.Create(new VipConfig { Name = "api", Address = "192.0.2.10/24", Interface = "eth0" }) },
        }, 1).Apply(new AssignVipCommand { ChangeId = "a1", Author = "leader", ProposedAt = DateTimeOffset.UnixEpoch, Vip = "api", Node = "lb1", Term = 1, Reason = "placed" }, 2);
        var services = new ServiceCollection().AddMetrics().BuildServiceProvider();
        var keeper = new VipKeeper(
            new FixedLog(state), new LinkAddresses(links, time), new NodeEvents(time), time, NullLogger<VipKeeper>.Instance, services.GetRequiredService<IMeterFactory>(), membership);
        await keeper.StartAsync(CancellationToken.None);
        return new RunningKeeper(keeper, services);
    }

    private sealed class RunningKeeper(VipKeeper keeper, ServiceProvider services) : IAsyncDisposable
    {
        public VipKeeper Keeper => keeper;

        public async ValueTask DisposeAsync()
        {
            await keeper.StopAsync(CancellationToken.None);
            await keeper.DisposeAsync();
            await services.DisposeAsync();
        }
    }

    /// <summary>Counts adds and removes; an add can be made to hang until the keeper stops.</summary>
    private sealed class FakeLinks(IReadOnlyList<string> ipCommandLine) : ILinkOperations
    {
        private int _adds;
        private int _removes;

        public bool HangAdds { get; init; }

        public int Adds => Volatile.Read(ref _adds);

        public int Removes => Volatile.Read(ref _removes);

        public IReadOnlyList<string> IpCommandLine => ipCommandLine;

        public async Task AddAsync(VipAddress vip, string device, CancellationToken cancellationToken)
        {
            Interlocked.Increment(ref _adds);
            if (HangAdds)
            {
                await Task.Delay(Timeout.InfiniteTimeSpan, cancellationToken);
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
