using System.Security.Cryptography;

namespace Switchman.Proxy.Forwarding;

/// <summary>
/// Request ids for requests that arrive without one: 32 hex digits, a random per-process prefix and a counter.
/// Unique per node and across restarts, and cheap: Guid.NewGuid costs a system call per request, which the
/// profile showed as 4% of the proxy's CPU.
/// </summary>
internal static class RequestIds
{
    private static readonly ulong Prefix = BitConverter.ToUInt64(RandomNumberGenerator.GetBytes(sizeof(ulong)));
    private static long _counter;

    public static string Next()
    {
        var sequence = (ulong)Interlocked.Increment(ref _counter);
        return string.Create(32, sequence, static (span, value) =>
        {
            Prefix.TryFormat(span[..16], out _, "x16", System.Globalization.CultureInfo.InvariantCulture);
            value.TryFormat(span[16..], out _, "x16", System.Globalization.CultureInfo.InvariantCulture);
        });
    }
}
