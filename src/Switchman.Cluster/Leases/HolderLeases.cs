using System.Collections.Concurrent;

namespace Switchman.Cluster.Leases;

/// <summary>
/// The leases under which followers hold VIPs (docs/design/vips.md), carried on the transport's liveness pings, which
/// every node sends to each peer it watches every quarter election timeout:
/// <list type="bullet">
/// <item><b>As a pinger</b> (any node): each ping carries this node's <i>report</i>, the log index its VIP keeper has
/// caught up with (it holds exactly the VIPs that state assigns to it, no other). The leader's answer carries a
/// <i>grant</i>: the leader's term, or 0. A grant is a lease of <see cref="Duration"/> counted from when this node
/// <b>sent</b> the ping, on its own monotonic clock, so network delay only shortens it. It survives an election this node
/// merely hears of (a follower keeps its VIPs while the leader changes, if the new leader grants again in time), but not
/// this node's own leadership: every grant it holds is dropped the moment it leads, so that once its leadership ends it
/// holds nothing an earlier leader gave (what lets the next leader give its VIPs away at once).</item>
/// <item><b>As the leader</b>: answers every ping with a grant while it may (it leads under its leader lease) and the peer
/// is not revoked, remembering when it last granted each peer and what each last reported. Before it gives a VIP to a
/// new holder it asks <see cref="SurelyReleased"/>: the old holder reported the release, or its lease has surely ended.</item>
/// </list>
/// Thread-safe: pings are answered on transport tasks while the keeper and the assigner read.
/// </summary>
public sealed class HolderLeases
{
    /// <summary>How much faster than ours another node's clock may run: 10⁻³, far above quartz's 10⁻⁵.</summary>
    public const double ClockDriftBound = 1e-3;

    /// <summary>Added to every wait for a lease to end: the keeper's check interval (10 ms) plus the time to remove an
    /// address (about a millisecond over netlink), with room for a busy machine.</summary>
    public static readonly TimeSpan Margin = TimeSpan.FromMilliseconds(25);

    private readonly TimeProvider _time;
    private readonly Func<long> _grantingTerm;
    private readonly ConcurrentDictionary<string, PeerRecord> _peers = new(StringComparer.Ordinal);
    private readonly Lock _sync = new();
    private Grant _grant = new(0, 0);
    private long _report;
    private ObservedLeader? _lastLeader;
    private ObservedLeader? _predecessor;
    private long _leadingSince;
    private long _leadingTerm;
    private long _lastLedTerm;
    private long _grantingFromTerm;
    private long _grantingFromIndex;

    /// <param name="duration">How long a grant lasts from the ping that asked for it.</param>
    /// <param name="grantingTerm">This node's term while it may grant (it leads under its leader lease), else 0.</param>
    public HolderLeases(TimeProvider time, TimeSpan duration, Func<long> grantingTerm)
    {
        _time = time;
        Duration = duration;
        _grantingTerm = grantingTerm;
    }

    public TimeSpan Duration { get; }

    /// <summary>How long after its last grant a holder has surely lost its lease, on any clock within the drift bound.</summary>
    public TimeSpan WaitAfterLastGrant => Duration * (1 + ClockDriftBound) + Margin;

    /// <summary>The index this node's VIP keeper has caught up with; sent in every ping.</summary>
    public long Report
    {
        get => Volatile.Read(ref _report);
        set => Volatile.Write(ref _report, value);
    }

    /// <summary>
    /// Whether this node holds a live grant: one given in a term no earlier than the last one this node led. (Nobody else
    /// grants in a term this node led; and the term seen with a leadership may already be the next one, whose leader's
    /// grants must count.)
    /// </summary>
    public bool HoldsGrant() => GrantRemaining() > TimeSpan.Zero;

    /// <summary>How long the grant this node holds has left (zero when it holds none): see <see cref="HoldsGrant"/>.</summary>
    public TimeSpan GrantRemaining()
    {
        Grant grant;
        lock (_sync)
        {
            grant = _grant;
            if (grant.Term == 0 || grant.Term < _lastLedTerm)
            {
                return TimeSpan.Zero;
            }
        }
        var left = Duration - _time.GetElapsedTime(grant.SentAt);
        return left > TimeSpan.Zero ? left : TimeSpan.Zero;
    }

    /// <summary>This node leads in <paramref name="term"/>: every grant it holds is void from now on.</summary>
    public void Leading(long term)
    {
        lock (_sync)
        {
            _lastLedTerm = Math.Max(_lastLedTerm, term);
        }
    }

    /// <summary>Pinger side: the answer to a ping sent at <paramref name="sentAt"/> (a timestamp) granted <paramref name="term"/> (0: no grant).</summary>
    internal void Answered(long sentAt, long term)
    {
        if (term == 0)
        {
            return;
        }
        lock (_sync)
        {
            if (term > _grant.Term || (term == _grant.Term && sentAt > _grant.SentAt))
            {
                Volatile.Write(ref _grant, new Grant(term, sentAt));
            }
        }
    }

    /// <summary>
    /// Leader side: this leader may grant in <paramref name="term"/>, each peer once it reports having applied
    /// <paramref name="index"/> (this leader's state once it committed in its term). Until then it grants nothing in that
    /// term. What a leader revoked (a VIP moved from a peer, the peer not yet reporting it) dies with its leadership; a
    /// peer whose state is older than the new leader's may still give it a VIP that was moved away, and a grant of the
    /// new leader would let it take that VIP back (found by the fault campaign, seed 14: a node whose link dropped 7 % of
    /// what it sent, granted by the next leader, added a VIP another node held). Caught up, it holds what the current
    /// state gives it.
    /// </summary>
    public void StartGranting(long term, long index)
    {
        lock (_sync)
        {
            if (term >= _grantingFromTerm)
            {
                (_grantingFromTerm, _grantingFromIndex) = (term, index);
            }
        }
    }

    /// <summary>Leader side: a ping from <paramref name="peerNodeId"/> reporting <paramref name="report"/>; returns the term granted, or 0.</summary>
    internal long Answer(string peerNodeId, long report)
    {
        var peer = _peers.GetOrAdd(peerNodeId, static _ => new PeerRecord());
        var term = _grantingTerm();
        long fromTerm, fromIndex;
        lock (_sync)
        {
            (fromTerm, fromIndex) = (_grantingFromTerm, _grantingFromIndex);
        }
        lock (peer)
        {
            peer.Report = Math.Max(peer.Report, report);
            if (term == 0 || term != fromTerm || peer.Suspended || peer.Report < Math.Max(peer.RevokedUntil, fromIndex))
            {
                return 0;
            }
            peer.LastGrantAt = _time.GetTimestamp();
            return term;
        }
    }

    /// <summary>Leader side: stop granting <paramref name="peerNodeId"/> until it reports having applied <paramref name="releaseIndex"/>.</summary>
    public void Revoke(string peerNodeId, long releaseIndex)
    {
        var peer = _peers.GetOrAdd(peerNodeId, static _ => new PeerRecord());
        lock (peer)
        {
            peer.RevokedUntil = Math.Max(peer.RevokedUntil, releaseIndex);
        }
    }

    /// <summary>Leader side: stop granting <paramref name="peerNodeId"/> until <see cref="Resume"/>, while a move of its VIPs is written.</summary>
    public void Suspend(string peerNodeId)
    {
        var peer = _peers.GetOrAdd(peerNodeId, static _ => new PeerRecord());
        lock (peer)
        {
            peer.Suspended = true;
        }
    }

    /// <summary>Leader side: ends a <see cref="Suspend"/>; a <see cref="Revoke"/> made meanwhile still holds.</summary>
    public void Resume(string peerNodeId)
    {
        var peer = _peers.GetOrAdd(peerNodeId, static _ => new PeerRecord());
        lock (peer)
        {
            peer.Suspended = false;
        }
    }

    /// <summary>
    /// Leader side, leading in <paramref name="currentTerm"/>: whether <paramref name="holder"/> has surely let go of a VIP
    /// released at <paramref name="releaseIndex"/>. Yes when it reported that index (its keeper applied the release and
    /// removed the address), or when no lease it may still hold can be live: <see cref="WaitAfterLastGrant"/> after this
    /// leader last granted it, and after this leader took over, since an earlier leader's grant was sent before that
    /// (unless the holder was that earlier leader, in the term just before: it dropped its grants when it began to lead,
    /// its leader lease ended before this leader was elected, and no leader but this one has led since).
    /// </summary>
    /// <param name="extra">Time the holder may keep what it holds after its lease ended (a singleton's fence grace): the
    /// answer is yes only that much later, and the shortcut for a predecessor leader (whose lease ended before this leader
    /// began) still waits that long after this leader began.</param>
    public bool SurelyReleased(string holder, long releaseIndex, long currentTerm, string localNodeId, TimeSpan extra = default)
    {
        if (holder == localNodeId)
        {
            return Report >= releaseIndex;
        }
        var peer = _peers.GetOrAdd(holder, static _ => new PeerRecord());
        long lastGrant;
        lock (peer)
        {
            if (peer.Report >= releaseIndex)
            {
                return true;
            }
            lastGrant = peer.LastGrantAt;
        }
        long since;
        ObservedLeader? predecessor;
        lock (_sync)
        {
            since = _leadingTerm == currentTerm ? _leadingSince : _time.GetTimestamp();
            predecessor = _predecessor;
        }
        var wasPredecessor = predecessor is { } p && p.NodeId == holder && p.Term == currentTerm - 1;
        if (wasPredecessor && lastGrant < since)
        {
            // No grant since its own leadership (this node's grants before it are void: it led after them), whose lease
            // ended before this leader began.
            return extra <= TimeSpan.Zero || _time.GetElapsedTime(since) >= extra;
        }
        // A grant this leader gave lasts a whole lease, to a predecessor too (once deposed, it is a follower like any
        // other); so may one an earlier leader gave, up to when this leader began.
        return _time.GetElapsedTime(Math.Max(lastGrant, since)) >= WaitAfterLastGrant + extra;
    }

    /// <summary>Records who leads in which term, as this node learns it; <paramref name="localNodeId"/> tells when that is this node.</summary>
    internal void LeaderObserved(string? nodeId, long term, string localNodeId)
    {
        if (nodeId is null)
        {
            return;
        }
        lock (_sync)
        {
            if (_lastLeader is { } last && last.NodeId == nodeId && last.Term == term)
            {
                return;
            }
            if (nodeId == localNodeId)
            {
                _lastLedTerm = Math.Max(_lastLedTerm, term);
                _predecessor = _lastLeader;
                _leadingSince = _time.GetTimestamp();
                _leadingTerm = term;
            }
            _lastLeader = new ObservedLeader(nodeId, term);
        }
    }

    private sealed record Grant(long Term, long SentAt);

    private sealed record ObservedLeader(string NodeId, long Term);

    private sealed class PeerRecord
    {
        public long Report;
        public long RevokedUntil;
        public long LastGrantAt;
        public bool Suspended;
    }
}
