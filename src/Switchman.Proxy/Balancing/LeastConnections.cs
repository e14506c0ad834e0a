using Switchman.Proxy.Runtime;

namespace Switchman.Proxy.Balancing;

/// <summary>
/// Fewest in-flight requests relative to weight. Ties rotate (like HAProxy's leastconn, which round-robins among
/// equally loaded servers) so an idle pool still spreads requests.
/// </summary>
internal sealed class LeastConnections : ILoadBalancer
{
    private readonly TimeSpan _slowStart;
    private int _rotation;

    public LeastConnections(TimeSpan slowStart) => _slowStart = slowStart;

    public ServerRuntime Pick(ReadOnlySpan<ServerRuntime> candidates, in BalancingKey request, long nowTimestamp)
    {
        var start = (int)((uint)Interlocked.Increment(ref _rotation) % (uint)candidates.Length);
        ServerRuntime best = candidates[start];
        var bestLoad = Load(best, nowTimestamp);
        for (var i = 1; i < candidates.Length; i++)
        {
            var server = candidates[(start + i) % candidates.Length];
            var load = Load(server, nowTimestamp);
            if (load < bestLoad)
            {
                best = server;
                bestLoad = load;
            }
        }
        return best;
    }

    private double Load(ServerRuntime server, long nowTimestamp) =>
        (server.InFlight + 1) / Math.Max(server.EffectiveWeight(nowTimestamp, _slowStart), 0.001);
}
