using Switchman.Core.Changes;
using System.Diagnostics.Metrics;
using System.Net;
using DotNext.Net.Cluster;
using DotNext.Net.Cluster.Consensus.Raft;
using DotNext.Net.Cluster.Consensus.Raft.Membership;
using DotNext.Net.Cluster.Consensus.Raft.StateMachine;
using Microsoft.Extensions.Logging;
using Switchman.Cluster.Elections;
using Switchman.Cluster.Membership;
using Switchman.Cluster.Replication;
using Switchman.Cluster.Leases;
using Switchman.Cluster.Transport;
using Switchman.Core.Configuration;
using Switchman.Core.Security;

namespace Switchman.Cluster;

/// <summary>
/// This process's member of the Raft cluster: owns the authenticated transport, the write-ahead log, the state
/// machine, the membership file and the DotNext <see cref="RaftCluster"/>. Proposes changes (on the leader), reports
/// members, leader and term, and raises what changes. Started and stopped by its host.
/// </summary>
public sealed class ClusterNode : IAsyncDisposable
{
    private const string MetadataId = "id";
    private const string MetadataAdmin = "admin";
    private const string MetadataRole = "role";
    private static readonly TimeSpan MetadataPollInterval = TimeSpan.FromSeconds(1);
    private static readonly TimeSpan MetadataRequestTimeout = TimeSpan.FromSeconds(1);

    /// <summary>After start, how long a member that has not been reached yet is not reported unreachable.</summary>
    private static readonly TimeSpan StartupGrace = TimeSpan.FromSeconds(5);
    /// <summary>How long a read barrier that failed waits for a new leader before it asks again anyway (the failure may have been a blip).</summary>
    private static readonly TimeSpan CatchUpRetryDelay = TimeSpan.FromMilliseconds(50);
    private static readonly TimeSpan PublishCommitTimeout = TimeSpan.FromMilliseconds(250);

    private readonly ClusterNodeOptions _options;
    private readonly ILoggerFactory _loggerFactory;
    private readonly ILogger _logger;
    private readonly TimeProvider _time;
    private readonly ConfigStateMachine _stateMachine;
    private readonly MembershipFile _membership;
    private readonly ClusterTransport _transport;
    private readonly IPEndPoint _localAddress;
    private readonly ClusterMetrics _metrics;
    private readonly CancellationTokenSource _stopping = new();
    private GatedWriteAheadLog? _log;
    private RaftCluster? _cluster;
    private readonly Dictionary<string, string> _peerIds;
    private readonly System.Collections.Concurrent.ConcurrentDictionary<string, bool> _reportedReachability = new(StringComparer.Ordinal);
    private Task _metadataLoop = Task.CompletedTask;
    private Task _voteGuardLoop = Task.CompletedTask;
    private Task _standInLoop = Task.CompletedTask;
    private volatile bool _announceMembers;
    private long _startedAt;
    private TaskCompletionSource _learnMetadataNow = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private TaskCompletionSource _viewChanged = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private int _stopped;

    public ClusterNode(ClusterNodeOptions options, ILoggerFactory loggerFactory, IMeterFactory meterFactory, TimeProvider time)
    {
        ArgumentNullException.ThrowIfNull(options);
        _options = options;
        _loggerFactory = loggerFactory;
        _logger = loggerFactory.CreateLogger<ClusterNode>();
        _time = time;
        var config = options.Config;
        _localAddress = ClusterAddress.Parse(config.Listen);
        Directory.CreateDirectory(config.DataDir);
        _stateMachine = new ConfigStateMachine(new DirectoryInfo(Path.Combine(config.DataDir, "snapshots")), config.SnapshotEvery, _logger);
        _stateMachine.Applied += state => StateApplied?.Invoke(state);
        _membership = new MembershipFile(Path.Combine(config.DataDir, "members"));
        // Liveness bounds follow the election timeout: a peer that stops answering (powered off, frozen, cut off) is
        // unreachable within interval + unreachable-after (75 ms of the default 100 ms), before any follower stands for
        // election, so votes and pre-votes sent to it fail at once instead of at the request timeout. Connecting (and
        // so getting back in after a blip) is given the request timeout: a busy peer must not be locked out.
        _transport = new ClusterTransport(
            new ClusterTransportOptions(config.NodeId, _localAddress, options.Secret, HandshakeTimeout: config.RequestTimeout)
            {
                // Loaded now, so a node whose files went bad since `switchman check` fails at start, saying which.
                Tls = config.Tls is { } tls ? new TlsCredentialFiles(tls.Cert, tls.Key, tls.Ca, time) : null,
                LivenessInterval = config.ElectionTimeoutMin / 4,
                UnreachableAfter = config.ElectionTimeoutMin / 2,
            },
            loggerFactory, time);
        _transport.PeerReachabilityChanged += OnPeerReachabilityChanged;
        // Aborting established connections is for votes and pre-votes in flight (a candidate waits for every member); a
        // leader aborting a follower's catch-up on a late ping would only set it back.
        _transport.AbortConnectionsToUnreachablePeers = () => !IsLeader;
        // A follower's VIP lease: two election timeouts. A follower that holds a VIP and dies is replaced this long
        // after its last grant, so it is most of a failover's gap; it is twice what the leader's own right to hold
        // lasts (75 ms), so a busy moment does not cost a follower its VIPs; a follower keeps them through an election
        // when the new leader grants again within it (docs/design/vips.md).
        Leases = new HolderLeases(time, config.ElectionTimeoutMin * 2, () => IsLeader && HoldsLeaderLease() ? Term : 0);
        _transport.Leases = Leases;
        _metrics = new ClusterMetrics(meterFactory, this);
        _peerIds = config.Peers.ToDictionary(p => ClusterAddress.Format(ClusterAddress.Parse(p.Address)), p => p.Id, StringComparer.Ordinal);
    }

    public string NodeId => _options.Config.NodeId;

    public ClusterRole Role => _options.Config.Role;

    /// <summary>The role as the API, metadata and logs spell it: voter or witness.</summary>
    public string RoleName => Role.ToString().ToLowerInvariant();

    public string LocalAddress => ClusterAddress.Format(_localAddress);

    /// <summary>The fault hook that cuts this node's cluster traffic (tests isolate a node with it).</summary>
    public ClusterTrafficGate TrafficGate => _transport.Gate;

    /// <summary>Connections refused for failing authentication since start.</summary>
    public long RefusedConnections => _transport.RefusedConnections;

    /// <summary>Inbound handshakes that timed out or were given up halfway since start (not refusals).</summary>
    public long AbandonedHandshakes => _transport.AbandonedHandshakes;

    /// <summary>The replicated state as applied on this node (possibly behind the leader's).</summary>
    public SharedState State => _stateMachine.Current;

    public long Term => _cluster?.Term ?? 0;

    /// <summary>The highest log index this node knows to be committed.</summary>
    public long CommitIndex => _log?.LastCommittedEntryIndex ?? 0;

    /// <summary>
    /// The last log index this node has applied. The write-ahead log passes entries without a payload (each new
    /// leader's first, empty entry) by without handing them to the state machine, so this is the larger of the two.
    /// </summary>
    public long AppliedIndex => Math.Max(State.AppliedIndex, _log?.LastAppliedIndex ?? 0);

    public bool IsLeader => _cluster?.Leader is { IsRemote: false };

    /// <summary>Whether this node grants no vote yet: it started with an empty data directory and has not caught up (<see cref="EmptyStartVoteGuard"/>).</summary>
    public bool VoteWithheld => _log?.VoteWithheld ?? false;

    /// <summary>Valid while this node leads and has committed in its term; cancelled the moment leadership (or the majority) is lost.</summary>
    public CancellationToken LeadershipToken => _cluster?.LeadershipToken ?? new CancellationToken(canceled: true);

    /// <summary>Raised on DotNext's threads after each applied entry; handlers must be quick.</summary>
    public event Action<SharedState>? StateApplied;

    /// <summary>The new leader (null: none known) and the term.</summary>
    public event Action<ClusterMemberView?, long>? LeaderChanged;

    public event Action<ClusterMemberView>? MemberAdded;

    public event Action<ClusterMemberView>? MemberRemoved;

    /// <summary>A member became unreachable (false) or reachable again (true).</summary>
    public event Action<ClusterMemberView, bool>? MemberReachabilityChanged;

    public async Task StartAsync(CancellationToken cancellationToken)
    {
        var config = _options.Config;
        _startedAt = _time.GetTimestamp();
        // The snapshot first: the log replays only the entries after it.
        await _stateMachine.RestoreAsync(cancellationToken).ConfigureAwait(false);
        _log = new GatedWriteAheadLog(new WriteAheadLog.Options { Location = Path.Combine(config.DataDir, "wal"), ChunkSize = 64 * 1024 }, _stateMachine);
        var voteGuard = new EmptyStartVoteGuard(config, _log, _logger, _time);
        await SeedMembershipAsync(voteGuard, cancellationToken).ConfigureAwait(false);
        // Before DotNext serves any request: a node that started empty (now, or before a restart) grants no vote yet.
        var voteWithheld = voteGuard.WithholdIfMarked();

        var raft = new RaftCluster.CustomTransportConfiguration(_localAddress, _transport, _transport)
        {
            LowerElectionTimeout = (int)config.ElectionTimeoutMin.TotalMilliseconds,
            UpperElectionTimeout = (int)config.ElectionTimeoutMax.TotalMilliseconds,
            // Heartbeats every quarter of the minimum election timeout (25 ms by default): followers learn a commit
            // sooner, and a new leader whose first round is refused retries sooner. Cheap on a local network.
            HeartbeatThreshold = 0.25,
            // Long enough for a follower whose disk is slow to persist a batch or a snapshot. A peer that answers
            // nothing at all is cut off sooner by the transport's liveness watch (see above).
            RequestTimeout = config.RequestTimeout,
            ConnectTimeout = config.RequestTimeout,
            // A node never forms a cluster on its own: the membership file (seeded from peers) says who votes.
            ColdStart = false,
            Standby = config.Role == ClusterRole.Witness,
            // The leader lease (DotNext renews it after each heartbeat round a majority acknowledged in this term, for
            // election_timeout_min from the round's start) is half of what lets the leader hold VIPs; see LeaderLeaseToken.
            IsLeaderLeaseEnabled = true,
            ConfigurationStorage = _membership,
            LoggerFactory = _loggerFactory,
        };
        raft.Metadata[MetadataId] = config.NodeId;
        raft.Metadata[MetadataAdmin] = _options.AdminUrl;
        raft.Metadata[MetadataRole] = RoleName;
        _cluster = new RaftCluster(raft) { AuditTrail = _log };
        _cluster.LeaderChanged += OnLeaderChanged;
        _cluster.MemberAdded += (_, e) => OnMemberAdded(e.Member);
        _cluster.MemberRemoved += (_, e) =>
        {
            MemberRemoved?.Invoke(View(e.Member));
            SignalViewChanged();
        };
        try
        {
            await _cluster.StartAsync(cancellationToken).ConfigureAwait(false);
        }
        catch (System.Net.Sockets.SocketException e)
        {
            throw new InvalidOperationException($"cannot listen for cluster traffic on {LocalAddress} (cluster.listen): {e.Message}", e);
        }
        // Members loaded from the membership file at start are not news; members added from now on are.
        _announceMembers = true;

        // Entries committed before a restart are applied again (on DotNext's applier) from the snapshot on: wait for
        // them, so the node serves the configuration it last agreed to rather than its file's.
        using var replayTimeout = new CancellationTokenSource(_options.ReplayTimeout, _time);
        using var replay = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken, replayTimeout.Token);
        await _log.WaitForApplyAsync(_log.LastCommittedEntryIndex, replay.Token).ConfigureAwait(false);
        ClusterLogMessages.Started(_logger, config.NodeId, LocalAddress, RoleName, State.Revision, _log.LastCommittedEntryIndex);
        _metadataLoop = LearnMetadataLoopAsync(_stopping.Token);
        var cluster = _cluster;
        if (voteWithheld)
        {
            _voteGuardLoop = RunLoopAsync("vote guard", stopping => voteGuard.RunAsync(cluster, () => ViewChanged, NameOf, stopping));
        }
        if (Role == ClusterRole.Witness)
        {
            var standIn = new WitnessStandIn(config, _log, _logger, _time);
            _standInLoop = RunLoopAsync("witness stand-in", stopping => standIn.RunAsync(cluster, () => ViewChanged, stopping));
        }
    }

    private string NameOf(RaftClusterMember member) => View(member) is var view && view.Id is { } id ? id : view.Address;

    /// <summary>Runs one of the member's loops until <see cref="StopAsync"/>; an unexpected error is logged once and ends only that loop.</summary>
    private async Task RunLoopAsync(string name, Func<CancellationToken, Task> loop)
    {
        try
        {
            await loop(_stopping.Token).ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (_stopping.IsCancellationRequested)
        {
        }
        catch (Exception e)
        {
            ClusterLogMessages.LoopFailed(_logger, name, e);
        }
    }

    /// <summary>Leaves leadership first (a planned failover is faster than an election), then stops.</summary>
    public async Task StopAsync(CancellationToken cancellationToken)
    {
        if (Interlocked.Exchange(ref _stopped, 1) != 0 || _cluster is null)
        {
            return;
        }
        await _stopping.CancelAsync().ConfigureAwait(false);
        await _metadataLoop.ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
        await _voteGuardLoop.ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
        await _standInLoop.ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
        if (IsLeader)
        {
            try
            {
                await ((ICluster)_cluster).ResignAsync(cancellationToken).ConfigureAwait(false);
            }
            catch (Exception e) when (e is OperationCanceledException or MemberUnavailableException)
            {
                // Cancelled by the host's stop timeout, or leadership moved meanwhile and DotNext asked the new leader,
                // which did not answer: the others elect a leader without this node either way.
                ClusterLogMessages.ResignFailed(_logger, e.Message);
            }
        }
        await _cluster.StopAsync(cancellationToken).ConfigureAwait(false);
        ClusterLogMessages.Stopped(_logger, NodeId);
    }

    public async ValueTask DisposeAsync()
    {
        await StopAsync(CancellationToken.None).ConfigureAwait(false);
        if (_cluster is not null)
        {
            await _cluster.DisposeAsync().ConfigureAwait(false);
        }
        if (_log is not null)
        {
            await _log.DisposeAsync().ConfigureAwait(false);
        }
        await _stateMachine.DisposeAsync().ConfigureAwait(false);
        _membership.Dispose();
        await _transport.DisposeAsync().ConfigureAwait(false);
        _stopping.Dispose();
    }

    /// <summary>
    /// Whether this node may hold a VIP now: it leads under DotNext's leader lease (a heartbeat round a majority
    /// acknowledged in this term began less than election_timeout_min ago) and it heard from a majority of the members
    /// within ¾ of election_timeout_min. The first rules out a leader deposed while it was cut off (its old term gets
    /// no acknowledgements); the second ends the right a quarter of an election timeout before anyone else can be
    /// elected, the margin by which the address is gone first (docs/design/vips.md).
    /// </summary>
    public bool HoldsLeaderLease() => LeaderLeaseRemaining() > TimeSpan.Zero;

    /// <summary>
    /// How long <see cref="HoldsLeaderLease"/> stays true at most, if nothing is heard from anyone meanwhile: until the
    /// contact of the majority's least recent member is ¾ of election_timeout_min old (zero when it is not true now).
    /// </summary>
    private TimeSpan LeaderLeaseRemaining()
    {
        if (_cluster is not { } cluster || !cluster.TryGetLeaseToken(out var lease) || lease.IsCancellationRequested)
        {
            return TimeSpan.Zero;
        }
        var window = _options.Config.ElectionTimeoutMin * 3 / 4;
        var members = cluster.Members.ToList();
        var othersNeeded = members.Count / 2; // with this node, a majority
        if (othersNeeded == 0)
        {
            return window;
        }
        var sinceContact = members.Where(m => m.IsRemote)
            .Select(m => _transport.SinceContact(ClusterAddress.Format(m.EndPoint)))
            .Order()
            .ToList();
        if (sinceContact.Count < othersNeeded)
        {
            return TimeSpan.Zero;
        }
        var majoritysOldest = sinceContact[othersNeeded - 1];
        return majoritysOldest < window ? window - majoritysOldest : TimeSpan.Zero;
    }

    /// <summary>
    /// How long this node may keep the VIPs assigned to it, at most, if its right is not renewed meanwhile: as the
    /// leader, what is left of its leader lease; as a follower, of a grant given after it last led
    /// (<see cref="HolderLeases.HoldsGrant"/>); zero when it may not (a witness never may). The keeper holds while it is
    /// above zero, and its guard removes the addresses when it runs out, should this process be too frozen to do it.
    /// </summary>
    public TimeSpan VipRightRemaining()
    {
        if (Role == ClusterRole.Witness)
        {
            return TimeSpan.Zero;
        }
        if (IsLeader)
        {
            // The leader election event drops this node's grants too; this covers a look that comes first.
            Leases.Leading(Term);
            return LeaderLeaseRemaining();
        }
        return Leases.GrantRemaining();
    }

    /// <summary>The VIP leases riding on liveness pings: grants this node holds, and (when it leads) grants it gives.</summary>
    public HolderLeases Leases { get; }

    /// <summary>Cancelled when DotNext's leader lease ends (or at once when this node does not lead): wakes the VIP keeper.</summary>
    public CancellationToken LeaderLeaseToken =>
        _cluster is { } cluster && cluster.TryGetLeaseToken(out var token) ? token : new CancellationToken(canceled: true);

    /// <summary>Waits until this node leads (and has committed in its term); returns the leadership token.</summary>
    public async Task<CancellationToken> WaitForLeadershipAsync(CancellationToken cancellationToken) =>
        await Started.WaitForLeadershipAsync(cancellationToken).ConfigureAwait(false);

    public ClusterMemberView? Leader => Started.Leader is { } leader ? View(leader) : null;

    public IReadOnlyList<ClusterMemberView> Members => [.. Started.Members.Select(View).OrderBy(m => m.Id ?? m.Address, StringComparer.Ordinal)];

    /// <summary>The members once started; none before (metrics are read at any time).</summary>
    internal IReadOnlyList<ClusterMemberView> StartedMembers => _cluster is null ? [] : Members;

    /// <summary>
    /// Appends a command through Raft and returns once it is committed and applied on this node (the leader), and the
    /// followers were sent the new commit index (<see cref="PublishCommitAsync"/>). Throws <see cref="ClusterNotLeaderException"/> when nothing was written, and
    /// <see cref="ClusterOutcomeUnknownException"/> when it was written but may not commit.
    /// </summary>
    public async Task<ChangeOutcome> ProposeAsync(ChangeCommand command, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(command);
        var cluster = Started;
        if (State.FindChange(command.ChangeId) is { } done)
        {
            return done;
        }
        var leadership = cluster.LeadershipToken;
        if (leadership.IsCancellationRequested)
        {
            _metrics.Proposed("not_leader", TimeSpan.Zero);
            throw new ClusterNotLeaderException(Leader);
        }
        using var commitTimeout = new CancellationTokenSource(_options.CommitTimeout, _time);
        using var scope = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken, leadership, commitTimeout.Token);
        var started = _time.GetTimestamp();
        try
        {
            var entry = new BinaryLogEntry { Term = cluster.Term, Content = command.ToBytes() };
            await cluster.ReplicateAsync(entry, scope.Token).ConfigureAwait(false);
        }
        catch (NotLeaderException e)
        {
            _metrics.Proposed("unknown", _time.GetElapsedTime(started));
            throw new ClusterOutcomeUnknownException(command.ChangeId, "leadership was lost while the change was replicated", e);
        }
        catch (OperationCanceledException e) when (!cancellationToken.IsCancellationRequested)
        {
            _metrics.Proposed("unknown", _time.GetElapsedTime(started));
            throw new ClusterOutcomeUnknownException(command.ChangeId,
                leadership.IsCancellationRequested ? "leadership or the majority was lost before it committed" : $"it did not commit within {_options.CommitTimeout.TotalSeconds:0.#}s", e);
        }
        var outcome = State.FindChange(command.ChangeId)
            ?? throw new ClusterOutcomeUnknownException(command.ChangeId, "it was applied but its outcome was not recorded");
        // A follower acts on a change when it learns the commit: a VIP given to it, a change it forwarded for its client.
        await PublishCommitAsync(cancellationToken).ConfigureAwait(false);
        _metrics.Proposed(outcome.Accepted ? "accepted" : "refused", _time.GetElapsedTime(started));
        return outcome;
    }

    /// <summary>
    /// On the leader, right after a commit: sends the new commit index to the followers now rather than with the next
    /// heartbeat, so a follower waiting to run a change it forwarded, or given a VIP, is not held up by the heartbeat
    /// interval. Best effort and bounded: a slow or absent follower learns it with the next heartbeat anyway.
    /// </summary>
    private async Task PublishCommitAsync(CancellationToken cancellationToken)
    {
        using var timeout = new CancellationTokenSource(PublishCommitTimeout, _time);
        using var scope = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken, timeout.Token);
        try
        {
            await Started.ForceReplicationAsync(scope.Token).ConfigureAwait(false);
        }
        catch (Exception e) when (e is NotLeaderException || (e is OperationCanceledException && !cancellationToken.IsCancellationRequested))
        {
        }
    }

    /// <summary>
    /// Brings this node's state up to what the leader has committed (a read barrier), so a change validated here is
    /// validated against the cluster's latest revision rather than a lagging copy.
    /// </summary>
    public async Task CatchUpAsync(CancellationToken cancellationToken)
    {
        var cluster = Started;
        using var timeout = new CancellationTokenSource(_options.CommitTimeout, _time);
        using var scope = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken, timeout.Token);
        while (true)
        {
            var changed = ViewChanged;
            try
            {
                await cluster.ApplyReadBarrierAsync(ReadBarrierType.Weak, scope.Token).ConfigureAwait(false);
                return;
            }
            catch (QuorumUnreachableException)
            {
                // No leader known yet: ask again once the others have elected one.
            }
            catch (MemberUnavailableException)
            {
                // The leader we asked did not answer: it is gone (ask the next one) or it was a blip (ask it again soon).
            }
            catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
            {
                throw new ClusterNotLeaderException(Leader);
            }
            await changed.WaitAsync(CatchUpRetryDelay, _time, scope.Token).ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
            if (scope.IsCancellationRequested)
            {
                cancellationToken.ThrowIfCancellationRequested();
                throw new ClusterNotLeaderException(Leader);
            }
        }
    }

    /// <summary>Adds a voter (run on the leader). False: the new node did not catch up in time, and is not a member.</summary>
    public async Task<bool> AddMemberAsync(IPEndPoint address, CancellationToken cancellationToken)
    {
        var cluster = Started;
        if (!IsLeader)
        {
            throw new ClusterNotLeaderException(Leader);
        }
        // A node with a long log may need more than one round of warm-up; each attempt resumes where it stopped.
        for (var attempt = 1; attempt <= 3; attempt++)
        {
            if (await cluster.AddMemberAsync(address, cancellationToken).ConfigureAwait(false))
            {
                return true;
            }
            ClusterLogMessages.AddMemberRetry(_logger, ClusterAddress.Format(address), attempt);
        }
        return false;
    }

    /// <summary>Removes a voter (run on the leader).</summary>
    public Task<bool> RemoveMemberAsync(IPEndPoint address, CancellationToken cancellationToken)
    {
        var cluster = Started;
        return IsLeader ? cluster.RemoveMemberAsync(address, cancellationToken) : throw new ClusterNotLeaderException(Leader);
    }

    private RaftCluster Started => _cluster ?? throw new InvalidOperationException("the cluster node has not started");

    private async Task SeedMembershipAsync(EmptyStartVoteGuard voteGuard, CancellationToken cancellationToken)
    {
        var config = _options.Config;
        IClusterConfigurationStorage<EndPoint> storage = _membership;
        var current = await storage.LoadConfigurationAsync(cancellationToken).ConfigureAwait(false);
        if (current.Members.Count > 0 || config.Join)
        {
            // Authoritative once written; a joining node waits, member-less, until the leader adds it.
            return;
        }
        // First start, or a node that lost its disk: marked before the membership is written, so that a crash in
        // between cannot leave a node that votes with a membership and no memory of its votes.
        voteGuard.MarkEmptyStart();
        IClusterConfiguration<EndPoint> seed = current;
        seed = seed.Add(_localAddress);
        foreach (var peer in config.Peers)
        {
            seed = seed.Add(ClusterAddress.Parse(peer.Address));
        }
        await ((IClusterConfigurationStorage)_membership).SaveConfigurationAsync(seed, 0L, cancellationToken).ConfigureAwait(false);
        ClusterLogMessages.MembershipSeeded(_logger, config.Peers.Count + 1);
    }

    private void OnLeaderChanged(RaftCluster<RaftClusterMember> cluster, RaftClusterMember? leader)
    {
        var view = leader is null ? null : View(leader);
        ClusterLogMessages.LeaderChanged(_logger, view?.Id ?? view?.Address ?? "(none)", cluster.Term);
        Leases.LeaderObserved(view?.Id, cluster.Term, NodeId);
        if (leader is { IsRemote: true })
        {
            // Its answers to this node's pings are what grant this node's VIP lease.
            _transport.WatchPeer(leader.EndPoint);
        }
        _metrics.LeaderChanged();
        LeaderChanged?.Invoke(view, cluster.Term);
        SignalViewChanged();
    }

    private void OnMemberAdded(RaftClusterMember member)
    {
        if (_announceMembers)
        {
            MemberAdded?.Invoke(View(member));
        }
        SignalViewChanged();
    }

    /// <summary>
    /// Turns the transport's liveness verdicts into member events: losing a member, or getting it back, is news; the
    /// first contact with a member is not, and a forgotten verdict (unknown) is no event. One source for both the events
    /// and <see cref="ClusterMemberView.Status"/>.
    /// </summary>
    private void OnPeerReachabilityChanged(string address, PeerReachability previous, PeerReachability state)
    {
        if (state == PeerReachability.Unknown || _cluster is null)
        {
            return;
        }
        var reachable = state == PeerReachability.Reachable;
        SignalViewChanged();
        if (reachable)
        {
            // A member just answered: learn its id and admin URL now rather than at the next poll.
            Volatile.Read(ref _learnMetadataNow).TrySetResult();
        }
        if (!reachable && _time.GetElapsedTime(_startedAt) < StartupGrace)
        {
            // Peers of a cluster being started come up seconds apart, and a node busy starting may miss a ping or two:
            // not news yet. ReportLostPeers tells about those that stay lost (once a second, or after the grace).
            return;
        }
        var firstContact = !_reportedReachability.ContainsKey(address);
        if (!TryReport(address, reachable) || (firstContact && reachable))
        {
            return;
        }
        var member = _cluster.Members.FirstOrDefault(m => m.IsRemote && ClusterAddress.Format(m.EndPoint) == address);
        if (member is not null)
        {
            MemberReachabilityChanged?.Invoke(View(member), reachable);
        }
    }

    /// <summary>
    /// Reports the members unreachable now that were not reported so yet: during the start-up grace only those this
    /// node had reached (so a flap shorter than the loop's period is no news), after it every one, reached or not.
    /// </summary>
    private void ReportLostPeers()
    {
        if (_cluster is null)
        {
            return;
        }
        var inGrace = _time.GetElapsedTime(_startedAt) < StartupGrace;
        foreach (var member in _cluster.Members.Where(m => m.IsRemote))
        {
            var address = ClusterAddress.Format(member.EndPoint);
            var reached = _reportedReachability.TryGetValue(address, out var last) && last;
            if (_transport.Reachability(address) == PeerReachability.Unreachable && (reached || !inGrace) && TryReport(address, reachable: false))
            {
                MemberReachabilityChanged?.Invoke(View(member), false);
            }
        }
    }

    /// <summary>Records <paramref name="reachable"/> as what was last reported for <paramref name="address"/>; false when
    /// it already was (whoever records a change first, the transport's callback or the metadata loop, reports it).</summary>
    private bool TryReport(string address, bool reachable)
    {
        while (true)
        {
            if (_reportedReachability.TryGetValue(address, out var last))
            {
                if (last == reachable)
                {
                    return false;
                }
                if (_reportedReachability.TryUpdate(address, reachable, last))
                {
                    return true;
                }
            }
            else if (_reportedReachability.TryAdd(address, reachable))
            {
                return true;
            }
        }
    }

    private ClusterMemberView View(RaftClusterMember member)
    {
        var address = ClusterAddress.Format(member.EndPoint);
        if (!member.IsRemote)
        {
            return new ClusterMemberView(address, NodeId, _options.AdminUrl, RoleName, IsLocal: true, member.IsLeader, "available", null);
        }
        var metadata = member.TryGetMetadata();
        DateTimeOffset? contact = _transport.TryGetLastContact(address, out var at) ? at : null;
        return new ClusterMemberView(
            address,
            // Until the member has answered once, the id its address has in this node's peers: every log line and
            // event names members by id, also one that has been powered off since this node started.
            metadata?.GetValueOrDefault(MetadataId) ?? _peerIds.GetValueOrDefault(address),
            metadata?.GetValueOrDefault(MetadataAdmin),
            metadata?.GetValueOrDefault(MetadataRole),
            IsLocal: false,
            member.IsLeader,
            // What this node's liveness pings say; before the first answer, what DotNext's last request said.
            _transport.Reachability(address) switch
            {
                PeerReachability.Reachable => "available",
                PeerReachability.Unreachable => "unavailable",
                _ => member.Status.ToString().ToLowerInvariant(),
            },
            contact);
    }

    /// <summary>Asks every member whose metadata (id, admin URL, role) is not known yet; one that does not answer stays unknown.</summary>
    public async Task LearnMetadataAsync(CancellationToken cancellationToken)
    {
        await Task.WhenAll(Started.Members
            .Where(m => m.IsRemote && m.TryGetMetadata() is null)
            .Select(async member =>
            {
                using var timeout = new CancellationTokenSource(MetadataRequestTimeout, _time);
                using var request = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken, timeout.Token);
                try
                {
                    await member.GetMetadataAsync(refresh: false, request.Token).ConfigureAwait(false);
                    SignalViewChanged();
                }
                catch (MemberUnavailableException)
                {
                    // Unreachable for now (DotNext wraps every failed request in this): asked again later.
                }
                catch (OperationCanceledException) when (timeout.IsCancellationRequested && !cancellationToken.IsCancellationRequested)
                {
                    // No answer in time: asked again later.
                }
                catch (ObjectDisposedException)
                {
                    // Removed from the cluster while it was asked: nothing to learn.
                }
            })).ConfigureAwait(false);
    }

    /// <summary>
    /// Completes the next time this node's view of the cluster changes: the leader, a member added or removed, a
    /// member's id and admin URL learnt, a member's reachability. Read it before looking at what it should change, then
    /// wait on it, so a change in between is not missed.
    /// </summary>
    public Task ViewChanged => Volatile.Read(ref _viewChanged).Task;

    /// <summary>
    /// Waits until <paramref name="probe"/> answers (not null), asking it again each time <see cref="ViewChanged"/>
    /// completes and, when <paramref name="recheck"/> is set, at least that often (for what no event reports); null
    /// once <paramref name="timeout"/> has passed without an answer.
    /// </summary>
    public Task<T?> WaitForViewAsync<T>(Func<T?> probe, TimeSpan timeout, CancellationToken cancellationToken, TimeSpan? recheck = null)
        where T : class
    {
        ArgumentNullException.ThrowIfNull(probe);
        return WaitForViewAsync(_ => Task.FromResult(probe()), timeout, cancellationToken, recheck);
    }

    /// <inheritdoc cref="WaitForViewAsync{T}(Func{T}, TimeSpan, CancellationToken, TimeSpan?)"/>
    public async Task<T?> WaitForViewAsync<T>(Func<CancellationToken, Task<T?>> probe, TimeSpan timeout, CancellationToken cancellationToken, TimeSpan? recheck = null)
        where T : class
    {
        ArgumentNullException.ThrowIfNull(probe);
        using var deadline = new CancellationTokenSource(timeout, _time);
        using var waiting = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken, deadline.Token);
        while (true)
        {
            var changed = ViewChanged;
            if (await probe(cancellationToken).ConfigureAwait(false) is { } answer)
            {
                return answer;
            }
            if (deadline.IsCancellationRequested)
            {
                return null;
            }
            await changed.WaitAsync(recheck ?? Timeout.InfiniteTimeSpan, _time, waiting.Token).ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
            cancellationToken.ThrowIfCancellationRequested();
        }
    }

    private void SignalViewChanged() =>
        Interlocked.Exchange(ref _viewChanged, new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously)).TrySetResult();

    /// <summary>
    /// Keeps asking members whose metadata is unknown (new members, members that were down), once a second. The first
    /// request to each member also starts the transport's liveness watch of it.
    /// </summary>
    private async Task LearnMetadataLoopAsync(CancellationToken stopping)
    {
        try
        {
            while (!stopping.IsCancellationRequested)
            {
                await LearnMetadataAsync(stopping).ConfigureAwait(false);
                ReportLostPeers();
                var wakeUp = Volatile.Read(ref _learnMetadataNow);
                await wakeUp.Task.WaitAsync(MetadataPollInterval, _time, stopping).ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
                Interlocked.CompareExchange(ref _learnMetadataNow, new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously), wakeUp);
            }
        }
        catch (OperationCanceledException) when (stopping.IsCancellationRequested)
        {
        }
        catch (Exception e)
        {
            // Not an unreachable member (LearnMetadataAsync handles those): a bug. Said once, loudly; members whose
            // metadata is unknown stay unknown until the node restarts.
            ClusterLogMessages.MetadataLoopFailed(_logger, e);
        }
    }
}
