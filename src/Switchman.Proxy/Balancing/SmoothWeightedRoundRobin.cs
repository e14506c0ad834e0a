using Switchman.Proxy.Runtime;

namespace Switchman.Proxy.Balancing;

/// <summary>
/// Smooth weighted round robin (the nginx algorithm): each pick adds every candidate's weight to its running score,
/// takes the highest score and subtracts the total from it. Weights 5,1,1 give a,a,b,a,c,a,a — spread out, not bursts.
/// Scores live per server position and survive candidate-set changes (a retry that excludes a server still rotates).
/// </summary>
internal sealed class SmoothWeightedRoundRobin : ILoadBalancer
{
    private readonly Lock _lock = new();
    private readonly Dictionary<ServerRuntime, double> _scores = new(ReferenceEqualityComparer.Instance);
    private readonly TimeSpan _slowStart;

    public SmoothWeightedRoundRobin(TimeSpan slowStart) => _slowStart = slowStart;

    public ServerRuntime Pick(ReadOnlySpan<ServerRuntime> candidates, in BalancingKey request, long nowTimestamp)
    {
        if (candidates.Length == 1)
        {
            return candidates[0];
        }
        lock (_lock)
        {
            ServerRuntime? best = null;
            var bestScore = double.MinValue;
            var total = 0.0;
            foreach (var server in candidates)
            {
                var weight = server.EffectiveWeight(nowTimestamp, _slowStart);
                total += weight;
                ref var score = ref System.Runtime.InteropServices.CollectionsMarshal.GetValueRefOrAddDefault(_scores, server, out _);
                score += weight;
                if (score > bestScore)
                {
                    bestScore = score;
                    best = server;
                }
            }
            _scores[best!] = bestScore - total;
            return best!;
        }
    }
}
