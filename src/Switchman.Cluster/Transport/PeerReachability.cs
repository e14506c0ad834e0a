namespace Switchman.Cluster.Transport;

/// <summary>What this node's liveness pings say about a peer.</summary>
public enum PeerReachability
{
    /// <summary>Not asked yet: the first liveness connection is under way.</summary>
    Unknown,

    /// <summary>It answered the last ping in time.</summary>
    Reachable,

    /// <summary>
    /// It did not answer a ping in time, or its liveness connection could not be made or broke: powered off, frozen,
    /// cut off, or stopped. Cluster requests to it fail at once until it answers again.
    /// </summary>
    Unreachable,
}
