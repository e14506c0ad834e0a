using System.Text;
using Microsoft.Extensions.Time.Testing;
using Switchman.Admin.Clustering;

namespace Switchman.AdminTests;

/// <summary>Node-to-node calls are signed with the cluster secret; anything else about them is refused with a reason.</summary>
public sealed class ClusterSignatureTests
{
    private static readonly byte[] Secret = Encoding.UTF8.GetBytes("the-shared-cluster-secret-0123456789");
    private static readonly byte[] Body = Encoding.UTF8.GetBytes("{\"change_id\":\"c1\"}");

    [Fact]
    public void A_signature_made_with_the_secret_names_its_node()
    {
        var time = new FakeTimeProvider(DateTimeOffset.UnixEpoch.AddDays(20000));
        var signature = new ClusterSignature(Secret, time);

        var header = signature.Sign("lb2", "POST", "/_cluster/propose", Body);

        Assert.Equal("lb2", signature.Verify(header, "POST", "/_cluster/propose", Body, out var reason));
        Assert.Null(reason);
    }

    [Theory]
    [InlineData("other-secret-of-the-same-length!!", "POST", "/_cluster/propose", "{\"change_id\":\"c1\"}", "does not match")]
    [InlineData(null, "GET", "/_cluster/propose", "{\"change_id\":\"c1\"}", "does not match")]
    [InlineData(null, "POST", "/_cluster/members", "{\"change_id\":\"c1\"}", "does not match")]
    [InlineData(null, "POST", "/_cluster/propose", "{\"change_id\":\"c2\"}", "does not match")]
    public void A_different_secret_method_path_or_body_is_refused(string? signingSecret, string method, string path, string body, string expected)
    {
        var time = new FakeTimeProvider(DateTimeOffset.UnixEpoch.AddDays(20000));
        var signer = new ClusterSignature(signingSecret is null ? Secret : Encoding.UTF8.GetBytes(signingSecret), time);
        var verifier = new ClusterSignature(Secret, time);

        var header = signer.Sign("lb2", "POST", "/_cluster/propose", Body);

        Assert.Null(verifier.Verify(header, method, path, Encoding.UTF8.GetBytes(body), out var reason));
        Assert.Contains(expected, reason, StringComparison.Ordinal);
    }

    [Fact]
    public void An_old_signature_is_refused()
    {
        var time = new FakeTimeProvider(DateTimeOffset.UnixEpoch.AddDays(20000));
        var signature = new ClusterSignature(Secret, time);
        var header = signature.Sign("lb2", "POST", "/_cluster/propose", Body);

        time.Advance(ClusterSignature.MaxSkew + TimeSpan.FromSeconds(1));

        Assert.Null(signature.Verify(header, "POST", "/_cluster/propose", Body, out var reason));
        Assert.Contains("off this node's clock", reason, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData(null)]
    [InlineData("")]
    [InlineData("lb2 not-a-time 00")]
    [InlineData("lb2 1700000000000 zz")]
    public void A_missing_or_malformed_header_is_refused(string? header)
    {
        var signature = new ClusterSignature(Secret, new FakeTimeProvider(DateTimeOffset.FromUnixTimeMilliseconds(1700000000000)));

        Assert.Null(signature.Verify(header, "POST", "/_cluster/propose", Body, out var reason));
        Assert.False(string.IsNullOrEmpty(reason));
    }
}
