using Switchman.Proxy.Runtime;

namespace Switchman.Proxy.Balancing;

/// <summary>
/// Consistent hashing on a ring of virtual points, <see cref="PointsPerWeight"/> per unit of weight, built over every
/// server of the backend (not just the available ones): when a server is unavailable only the keys that mapped to it
/// move, to the next available point clockwise, and they come back when it returns. Keys are the client address
/// (balance: source) or the request path (balance: uri).
/// </summary>
internal sealed class ConsistentHash : ILoadBalancer
{
    public const int PointsPerWeight = 40;

    private readonly ulong[] _points;
    private readonly ServerRuntime[] _owners;
    private readonly Func<BalancingKey, ulong> _keyHash;

    private ConsistentHash(ulong[] points, ServerRuntime[] owners, Func<BalancingKey, ulong> keyHash)
    {
        _points = points;
        _owners = owners;
        _keyHash = keyHash;
    }

    public static ConsistentHash BySource(IReadOnlyList<ServerRuntime> servers) => Build(servers, HashClientAddress);

    public static ConsistentHash ByUri(IReadOnlyList<ServerRuntime> servers) => Build(servers, key => StableHash.Of(key.Path));

    private static ulong HashClientAddress(BalancingKey key)
    {
        if (key.ClientAddress is null)
        {
            return 0;
        }
        Span<byte> bytes = stackalloc byte[16];
        return key.ClientAddress.TryWriteBytes(bytes, out var written) ? StableHash.Of(bytes[..written]) : 0;
    }

    private static ConsistentHash Build(IReadOnlyList<ServerRuntime> servers, Func<BalancingKey, ulong> keyHash)
    {
        var ring = new List<(ulong Point, ServerRuntime Owner)>();
        foreach (var server in servers)
        {
            var points = Math.Max(server.Weight, 1) * PointsPerWeight;
            for (var i = 0; i < points; i++)
            {
                ring.Add((StableHash.Of($"{server.Name}#{i}"), server));
            }
        }
        ring.Sort((a, b) => a.Point.CompareTo(b.Point));
        return new ConsistentHash([.. ring.Select(p => p.Point)], [.. ring.Select(p => p.Owner)], keyHash);
    }

    public ServerRuntime Pick(ReadOnlySpan<ServerRuntime> candidates, in BalancingKey request, long nowTimestamp)
    {
        if (candidates.Length == 1 || _points.Length == 0)
        {
            return candidates[0];
        }
        var hash = _keyHash(request);
        var index = Array.BinarySearch(_points, hash);
        if (index < 0)
        {
            index = ~index;
        }
        for (var step = 0; step < _points.Length; step++)
        {
            var owner = _owners[(index + step) % _points.Length];
            if (Contains(candidates, owner))
            {
                return owner;
            }
        }
        return candidates[0];
    }

    private static bool Contains(ReadOnlySpan<ServerRuntime> candidates, ServerRuntime server)
    {
        foreach (var candidate in candidates)
        {
            if (ReferenceEquals(candidate, server))
            {
                return true;
            }
        }
        return false;
    }
}
