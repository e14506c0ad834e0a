using System.Globalization;
using System.Security.Cryptography;
using System.Text;

namespace Switchman.Admin.Clustering;

/// <summary>
/// Signs and checks node-to-node admin calls (forwarded changes, status reports) with the cluster's shared secret:
/// <c>X-Switchman-Cluster-Auth: &lt;node id&gt; &lt;unix ms&gt; &lt;hex HMAC-SHA256 of node id, time, method, path and body&gt;</c>.
/// A signature is good for <see cref="MaxSkew"/>; replaying a forwarded change within it is harmless, because changes
/// carry ids and apply at most once.
/// </summary>
public sealed class ClusterSignature(ReadOnlyMemory<byte> secret, TimeProvider time)
{
    public const string HeaderName = "X-Switchman-Cluster-Auth";
    public static readonly TimeSpan MaxSkew = TimeSpan.FromSeconds(30);

    public string Sign(string nodeId, string method, string path, ReadOnlySpan<byte> body)
    {
        var at = time.GetUtcNow().ToUnixTimeMilliseconds();
        return string.Create(CultureInfo.InvariantCulture, $"{nodeId} {at} {Convert.ToHexStringLower(Mac(nodeId, at, method, path, body))}");
    }

    /// <summary>The signing node's id, or null with the reason the header does not check out.</summary>
    public string? Verify(string? header, string method, string path, ReadOnlySpan<byte> body, out string? reason)
    {
        var parts = (header ?? "").Split(' ', StringSplitOptions.RemoveEmptyEntries);
        if (parts.Length != 3 || !long.TryParse(parts[1], NumberStyles.None, CultureInfo.InvariantCulture, out var at))
        {
            reason = $"missing or malformed {HeaderName} header";
            return null;
        }
        var skew = time.GetUtcNow() - DateTimeOffset.FromUnixTimeMilliseconds(at);
        if (skew.Duration() > MaxSkew)
        {
            reason = $"signature time is {skew.TotalSeconds:0}s off this node's clock (at most {MaxSkew.TotalSeconds:0}s)";
            return null;
        }
        byte[] presented;
        try
        {
            presented = Convert.FromHexString(parts[2]);
        }
        catch (FormatException)
        {
            reason = "signature is not hex";
            return null;
        }
        if (!CryptographicOperations.FixedTimeEquals(presented, Mac(parts[0], at, method, path, body)))
        {
            reason = "signature does not match (a different cluster secret?)";
            return null;
        }
        reason = null;
        return parts[0];
    }

    private byte[] Mac(string nodeId, long at, string method, string path, ReadOnlySpan<byte> body)
    {
        using var hmac = IncrementalHash.CreateHMAC(HashAlgorithmName.SHA256, secret.Span);
        hmac.AppendData(Encoding.UTF8.GetBytes(string.Create(CultureInfo.InvariantCulture, $"{nodeId}\n{at}\n{method}\n{path}\n")));
        hmac.AppendData(body);
        return hmac.GetHashAndReset();
    }
}
