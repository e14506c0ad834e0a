using Switchman.Proxy.Runtime;

namespace Switchman.Proxy.Balancing;

/// <summary>
/// "Power of two choices": draw two servers at random in proportion to their weights and send the request to the one
/// with fewer in-flight requests per unit of weight. Nearly as even as leastconn, with no shared rotation state.
/// </summary>
internal sealed class RandomTwoChoices : ILoadBalancer
{
    private readonly TimeSpan _slowStart;
    private readonly Random _random;

    public RandomTwoChoices(TimeSpan slowStart, Random? random = null)
    {
        _slowStart = slowStart;
        _random = random ?? Random.Shared;
    }

    public ServerRuntime Pick(ReadOnlySpan<ServerRuntime> candidates, in BalancingKey request, long nowTimestamp)
    {
        if (candidates.Length == 1)
        {
            return candidates[0];
        }
        var first = DrawWeighted(candidates, nowTimestamp);
        var second = DrawWeighted(candidates, nowTimestamp);
        return Load(second, nowTimestamp) < Load(first, nowTimestamp) ? second : first;
    }

    private ServerRuntime DrawWeighted(ReadOnlySpan<ServerRuntime> candidates, long nowTimestamp)
    {
        var total = 0.0;
        foreach (var server in candidates)
        {
            total += server.EffectiveWeight(nowTimestamp, _slowStart);
        }
        var point = _random.NextDouble() * total;
        foreach (var server in candidates)
        {
            point -= server.EffectiveWeight(nowTimestamp, _slowStart);
            if (point < 0)
            {
                return server;
            }
        }
        return candidates[^1];
    }

    private double Load(ServerRuntime server, long nowTimestamp) =>
        server.InFlight / Math.Max(server.EffectiveWeight(nowTimestamp, _slowStart), 0.001);
}
