using Microsoft.Extensions.Logging.Abstractions;
using Switchman.Admin.Control;
using Switchman.Admin.Vips;
using Switchman.Core.Changes;
using Switchman.Core.Configuration;
using Switchman.Testing;

namespace Switchman.AdminTests;

/// <summary>
/// The leader's VIP duty against a log and a membership of our own making: what it writes, when it waits for an old
/// holder, and that losing leadership in the middle of a write never stops it (a lost leadership once stopped the node).
/// </summary>
public sealed class VipAssignerTests
{
    private static readonly TimeSpan Limit = TimeSpan.FromSeconds(10);

    [Fact]
    public async Task A_vip_whose_holder_stops_answering_moves_only_once_the_holder_s_lease_surely_ended()
    {
        var membership = new FakeMembership { Holders = ["lb1", "lb2"] };
        var log = new RecordingLog(Config());
        await using var assigner = await StartedAsync(log, membership);
        await Await.UntilAsync(() => log.State.Vips.GetValueOrDefault("api")?.Node == "lb1", Limit, "the VIP to be placed on the leader");

        // lb1 stops answering: while its lease may be live the VIP stays (a blip moves nothing)...
        membership.Released = false;
        membership.Holders = ["lb2"];
        await Task.Delay(200);
        Assert.Equal("lb1", log.State.Vips["api"].Node);

        // ...once it has surely ended, the VIP goes from lb1 to lb2 in one write, during which lb1 gets no renewal (so
        // its lease is still over when the write commits), and lb1 is renewed again only once it reports the move.
        var suspendedDuringWrites = new List<bool>();
        log.Appending = _ => suspendedDuringWrites.Add(membership.Suspended.Contains("lb1"));
        membership.Released = true;
        await Await.UntilAsync(() => log.State.Vips["api"].Node == "lb2", Limit, "the VIP to move to lb2");
        Assert.Equal(("lb1", "node lost"), (log.State.Vips["api"].PreviousNode, log.State.Vips["api"].Reason));
        Assert.Equal([true], suspendedDuringWrites);
        Assert.Contains(("lb1", log.State.Vips["api"].Index), membership.Revoked);
        Assert.Empty(membership.Suspended);
    }

    [Fact]
    public async Task A_lost_holder_renewed_just_before_its_suspension_keeps_its_vip()
    {
        var membership = new FakeMembership { Holders = ["lb1", "lb2"] };
        var log = new RecordingLog(Config());
        await using var assigner = await StartedAsync(log, membership);
        await Await.UntilAsync(() => log.State.Vips.GetValueOrDefault("api")?.Node == "lb1", Limit, "the VIP to be placed on the leader");
        var writes = log.State.AppliedIndex;

        // lb1 looks lost with its lease ended, but by the time its renewals are suspended it had been granted again.
        membership.Holders = ["lb2"];
        membership.GrantedOnSuspension = true;
        await Await.UntilAsync(() => membership.Suspensions >= 3, Limit, "a few attempts to move the VIP");
        Assert.Equal(("lb1", writes), (log.State.Vips["api"].Node, log.State.AppliedIndex));

        // It answers again: no more attempts, and no suspension left behind.
        membership.Holders = ["lb1", "lb2"];
        var attempts = membership.Suspensions;
        await Task.Delay(100);
        Assert.InRange(membership.Suspensions, attempts, attempts + 1);
        Assert.Empty(membership.Suspended);
    }

    [Fact]
    public async Task A_vip_released_by_a_holder_that_is_not_yet_surely_rid_of_it_waits_before_going_elsewhere()
    {
        var membership = new FakeMembership { Holders = ["lb1", "lb2"] };
        var log = new RecordingLog(Config());
        await using var assigner = await StartedAsync(log, membership);
        await Await.UntilAsync(() => log.State.Vips.GetValueOrDefault("api")?.Node == "lb1", Limit, "the VIP to be placed on the leader");

        // lb1 goes into standby: the VIP is taken from it at once, and given to lb2 only when lb1 surely let go.
        membership.Released = false;
        await log.AppendAsync(new SetNodeStandbyCommand { ChangeId = "s1", Author = "ops", ProposedAt = DateTimeOffset.UnixEpoch, Node = "lb1", Standby = true }, CancellationToken.None);
        await Await.UntilAsync(() => log.State.Vips["api"] is { Node: null, Reason: "standby" }, Limit, "the VIP to be taken from lb1");
        await Task.Delay(200);
        Assert.Null(log.State.Vips["api"].Node);
        Assert.Contains(("lb1", log.State.Vips["api"].Index), membership.Revoked);

        membership.Released = true;
        await Await.UntilAsync(() => log.State.Vips["api"].Node == "lb2", Limit, "the VIP to move to lb2");
    }

    [Fact]
    public async Task Losing_leadership_in_the_middle_of_a_write_is_no_failure_the_duty_waits_to_lead_again()
    {
        var membership = new FakeMembership { Holders = ["lb1"] };
        var log = new RecordingLog(Config()) { HangWrites = true };
        await using var assigner = await StartedAsync(log, membership);
        await Await.UntilAsync(() => log.Hanging, Limit, "a write to hang");

        membership.LoseLeadership();
        log.HangWrites = false;
        membership.Lead();

        await Await.UntilAsync(() => log.State.Vips.GetValueOrDefault("api")?.Node == "lb1", Limit, "the VIP to be placed by the leader again");
        Assert.False(assigner.Task.IsCompleted);
    }

    [Fact]
    public async Task A_leader_without_a_vip_does_not_keep_looking_and_places_one_as_soon_as_a_configuration_brings_it()
    {
        var membership = new FakeMembership { Holders = ["lb1", "lb2"] };
        var log = new RecordingLog(SharedState.Empty);
        var time = new CountingTimeProvider();
        await using var assigner = await StartedAsync(log, membership, time);

        // Idle: no VIP, so no look and no timer to wake the node (it looked 100 times a second, an idle node's CPU).
        await Task.Delay(300);
        Assert.Equal(0, time.TimersCreated);

        await log.AppendAsync(ConfigCommand(), CancellationToken.None);
        await Await.UntilAsync(() => log.State.Vips.GetValueOrDefault("api")?.Node == "lb1", Limit, "the VIP to be placed once configured");
        Assert.True(time.TimersCreated > 0, "once a VIP is configured the leader looks again");
    }

    private static async Task<RunningAssigner> StartedAsync(RecordingLog log, FakeMembership membership, TimeProvider? time = null)
    {
        var assigner = new VipAssigner(log, membership, time ?? TimeProvider.System, NullLogger<VipAssigner>.Instance);
        await assigner.StartAsync(CancellationToken.None);
        return new RunningAssigner(assigner);
    }

    private static SharedState Config() => SharedState.Empty.Apply(ConfigCommand(), 1);

    private static ApplyConfigCommand ConfigCommand() => new()
    {
        ChangeId = "c1", Author = "ops", ProposedAt = DateTimeOffset.UnixEpoch, ExpectedRevision = 0,
        Config = new SwitchmanConfig { Vips = ValueList.Create(new VipConfig { Name = "api", Address = "192.0.2.10/24", Interface = "eth0" }) },
    };

    /// <summary>The system clock, counting the timers made on it (each <c>Task.Delay</c> on it makes one).</summary>
    private sealed class CountingTimeProvider : TimeProvider
    {
        private int _timers;

        public int TimersCreated => Volatile.Read(ref _timers);

        public override ITimer CreateTimer(TimerCallback callback, object? state, TimeSpan dueTime, TimeSpan period)
        {
            Interlocked.Increment(ref _timers);
            return System.CreateTimer(callback, state, dueTime, period);
        }
    }

    private sealed class RunningAssigner(VipAssigner assigner) : IAsyncDisposable
    {
        public Task Task => assigner.ExecuteTask!;

        public async ValueTask DisposeAsync()
        {
            await assigner.StopAsync(CancellationToken.None);
            assigner.Dispose();
        }
    }

    /// <summary>A one-member log that applies what it is given with the real reducer; it can be told to hang writes.</summary>
    private sealed class RecordingLog(SharedState initial) : IChangeLog
    {
        private SharedState _state = initial;

        public bool HangWrites { get; set; }

        public bool Hanging { get; private set; }

        /// <summary>Called with each command before it is applied.</summary>
        public Action<ChangeCommand>? Appending { get; set; }

        public bool IsReplicated => true;

        public event Action<SharedState>? StateApplied;

        public SharedState State => Volatile.Read(ref _state);

        public Task CatchUpAsync(CancellationToken cancellationToken) => Task.CompletedTask;

        public async Task<AppendResult> AppendAsync(ChangeCommand command, CancellationToken cancellationToken)
        {
            if (HangWrites)
            {
                Hanging = true;
                await Task.Delay(Timeout.InfiniteTimeSpan, cancellationToken);
            }
            Appending?.Invoke(command);
            var next = State.Apply(command, State.AppliedIndex + 1);
            Volatile.Write(ref _state, next);
            StateApplied?.Invoke(next);
            return new AppendResult(next.FindChange(command.ChangeId)!, []);
        }
    }

    private sealed class FakeMembership : IVipMembership
    {
        private CancellationTokenSource _leadership = new();
        private TaskCompletionSource<CancellationToken> _leading = new(TaskCreationOptions.RunContinuationsAsynchronously);

        public FakeMembership() => _leading.SetResult(_leadership.Token);

        public IReadOnlyList<string> Holders { get; set; } = [];

        public bool Released { get; set; } = true;

        public List<(string Node, long Index)> Revoked { get; } = [];

        public string NodeId => "lb1";

        public long Term => 1;

        public CancellationToken RightEnds => CancellationToken.None;

        public void LoseLeadership()
        {
            _leading = new TaskCompletionSource<CancellationToken>(TaskCreationOptions.RunContinuationsAsynchronously);
            _leadership.Cancel();
        }

        public void Lead()
        {
            _leadership = new CancellationTokenSource();
            _leading.SetResult(_leadership.Token);
        }

        public Task<CancellationToken> WaitForLeadershipAsync(CancellationToken cancellationToken) => _leading.Task.WaitAsync(cancellationToken);

        public TimeSpan RightRemaining() => Timeout.InfiniteTimeSpan;

        public void Report(long index)
        {
        }

        public IReadOnlyList<string> ReachableHolders() => Holders;

        public bool IsReachable(string node) => Holders.Contains(node);

        public void Revoke(string node, long releaseIndex)
        {
            lock (Revoked)
            {
                if (!Revoked.Contains((node, releaseIndex)))
                {
                    Revoked.Add((node, releaseIndex));
                }
            }
        }

        public HashSet<string> Suspended { get; } = [];

        public int Suspensions { get; private set; }

        /// <summary>Whether a suspended node had been granted just before: its lease is live again.</summary>
        public bool GrantedOnSuspension { get; set; }

        public void Suspend(string node)
        {
            Suspended.Add(node);
            Suspensions++;
        }

        public void Resume(string node) => Suspended.Remove(node);

        public bool SurelyReleased(string node, long releaseIndex, TimeSpan extra = default) => Released;

        public bool LeaseSurelyEnded(string node, TimeSpan extra = default) => Released && !(GrantedOnSuspension && Suspended.Contains(node));

        public bool MembershipSettled() => true;
    }
}
