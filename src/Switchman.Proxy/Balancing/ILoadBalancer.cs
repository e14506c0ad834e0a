using Switchman.Proxy.Runtime;

namespace Switchman.Proxy.Balancing;

/// <summary>Picks one server among candidates that are all allowed to take the request.</summary>
internal interface ILoadBalancer
{
    /// <param name="candidates">Non-empty; every entry may take the request.</param>
    /// <param name="request">What the hash-based algorithms key on.</param>
    /// <param name="nowTimestamp">TimeProvider timestamp, for slow-start weights.</param>
    ServerRuntime Pick(ReadOnlySpan<ServerRuntime> candidates, in BalancingKey request, long nowTimestamp);
}

/// <summary>The parts of a request that hash-based balancing can key on.</summary>
internal readonly record struct BalancingKey(System.Net.IPAddress? ClientAddress, string Path);
