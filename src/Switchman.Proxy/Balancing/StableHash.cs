using System.Text;

namespace Switchman.Proxy.Balancing;

/// <summary>
/// A hash that is the same in every process and on every node (unlike string.GetHashCode, which is randomised per
/// process): two Switchman nodes must send one client to the same server. FNV-1a over the bytes, then a 64-bit
/// finaliser so that similar keys (10.0.0.1, 10.0.0.2) land far apart on the ring.
/// </summary>
internal static class StableHash
{
    public static ulong Of(ReadOnlySpan<byte> bytes)
    {
        var hash = 14695981039346656037UL;
        foreach (var b in bytes)
        {
            hash ^= b;
            hash *= 1099511628211UL;
        }
        return Mix(hash);
    }

    public static ulong Of(string text)
    {
        Span<byte> buffer = stackalloc byte[256];
        var max = Encoding.UTF8.GetMaxByteCount(text.Length);
        if (max <= buffer.Length)
        {
            var written = Encoding.UTF8.GetBytes(text, buffer);
            return Of(buffer[..written]);
        }
        return Of(Encoding.UTF8.GetBytes(text));
    }

    public static ulong Mix(ulong h)
    {
        h ^= h >> 33;
        h *= 0xff51afd7ed558ccdUL;
        h ^= h >> 33;
        h *= 0xc4ceb9fe1a85ec53UL;
        h ^= h >> 33;
        return h;
    }
}
