namespace Switchman.Cluster.Transport;

/// <summary>What an authenticated cluster connection carries; the dialer names it in its hello.</summary>
internal enum ClusterChannel : byte
{
    /// <summary>Raft messages, handed to DotNext.</summary>
    Raft = 1,

    /// <summary>The transport's own liveness pings (<see cref="PeerLiveness"/>), answered by the listener itself.</summary>
    Liveness = 2,
}
