using System.Text;
using Microsoft.Extensions.Logging;
using Switchman.Cluster.Transport;
using Switchman.Testing;
using Xunit.Abstractions;
using static Switchman.Cluster.Tests.Transport.TransportTestNode;

namespace Switchman.Cluster.Tests.Transport;

/// <summary>
/// Cluster traffic with <c>cluster.tls</c>: mutual TLS 1.3 against the cluster's CA, each certificate bound to the node
/// id its holder claims. Certificates are made per test by the code behind <c>switchman tls</c>.
/// </summary>
public sealed class ClusterTransportTlsTests(ITestOutputHelper output) : IDisposable
{
    private const int RefusedEvent = 5101;
    private static readonly TimeSpan WaitLimit = TimeSpan.FromSeconds(10);
    private readonly CancellationTokenSource _timeout = new(TimeSpan.FromSeconds(60));
    private readonly TempDirectory _files = new("switchman-tls");

    private CancellationToken Token => _timeout.Token;

    public void Dispose()
    {
        _timeout.Dispose();
        _files.Dispose();
    }

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public async Task With_tls_what_crosses_the_wire_is_encrypted_without_it_everything_is_readable(bool tls)
    {
        using var ca = new TestCertificateAuthority(_files.Combine("ca"));
        await using var server = await StartAsync("n1", output, tls: tls ? ca.Issue("n1") : null);
        await using var client = await StartAsync("n2", output, tls: tls ? ca.Issue("n2") : null);
        await using var wire = new RecordingRelay(server.EndPoint);
        const string configuration = "backends: { keystone: { servers: [ { name: canary-k1, address: 192.0.2.21:5000 } ] } }";

        var accepting = server.Listener.AcceptAsync(Token).AsTask();
        await using var outbound = await client.Transport.ConnectAsync(wire.EndPoint, Token);
        await using var inbound = (await accepting)!;
        await SendAsync(outbound, configuration, Token);
        Assert.Equal(configuration, await ReceiveAsync(inbound, configuration.Length, Token));
        await SendAsync(inbound, configuration, Token);
        Assert.Equal(configuration, await ReceiveAsync(outbound, configuration.Length, Token));

        Assert.Equal("n2", inbound.Features.Get<ClusterPeerIdentity>()?.NodeId);
        Assert.Equal(tls, !wire.Saw(Encoding.UTF8.GetBytes("canary-k1")));
        // The hello names the nodes: inside TLS, it too is hidden.
        Assert.Equal(tls, !wire.Saw(Encoding.UTF8.GetBytes(client.Address)));
        Assert.Equal(tls, wire.Recorded()[0] == 0x16);
    }

    [Fact]
    public async Task A_node_whose_certificate_another_ca_issued_is_refused_and_logged_even_if_it_knows_the_secret()
    {
        using var ca = new TestCertificateAuthority(_files.Combine("ca"));
        using var otherCa = new TestCertificateAuthority(_files.Combine("other"), "Another CA");
        await using var server = await StartAsync("n1", output, tls: ca.Issue("n1"));
        // It holds the cluster's CA certificate (public) and the secret, but its own certificate comes from elsewhere.
        await using var rogue = await StartAsync("n2", output, tls: otherCa.Issue("n2") with { Ca = ca.CaFile });
        await using var good = await StartAsync("n3", output, tls: ca.Issue("n3"));
        var accepting = server.Listener.AcceptAsync(Token).AsTask();

        var failure = await Assert.ThrowsAsync<ClusterHandshakeException>(() => rogue.Transport.ConnectAsync(server.EndPoint, Token).AsTask());

        output.WriteLine($"the rogue saw: {failure.Message}");
        Assert.Contains("refused this node's TLS certificate", failure.Message, StringComparison.Ordinal);
        await Await.UntilAsync(() => server.Transport.RefusedConnections >= 1, WaitLimit, "the server to count the refusal", Token);
        var refusal = server.Events(RefusedEvent)[0];
        Assert.Equal(LogLevel.Warning, refusal.Level);
        Assert.Contains("TLS refused", refusal.Message, StringComparison.Ordinal);
        Assert.Contains("not issued by a trusted CA", refusal.Message, StringComparison.Ordinal);
        Assert.Contains("Another CA", refusal.Message, StringComparison.Ordinal);
        Assert.False(accepting.IsCompleted, "AcceptAsync returned the refused connection");

        await using var outbound = await good.Transport.ConnectAsync(server.EndPoint, Token);
        Assert.Equal("n3", (await accepting)!.Features.Get<ClusterPeerIdentity>()?.NodeId);
    }

    [Fact]
    public async Task A_client_whose_certificate_expired_is_refused_and_a_server_whose_certificate_expired_is_not_trusted()
    {
        using var ca = new TestCertificateAuthority(_files.Combine("ca"));
        var lastYear = TimeProvider.System.GetUtcNow().AddDays(-365);
        await using var server = await StartAsync("n1", output, tls: ca.Issue("n1"));
        await using var expiredClient = await StartAsync("n2", output, tls: ca.Issue("n2", notBefore: lastYear, validity: TimeSpan.FromDays(30)));
        await using var expiredServer = await StartAsync("n3", output, tls: ca.Issue("n3", notBefore: lastYear, validity: TimeSpan.FromDays(30)));
        await using var client = await StartAsync("n4", output, tls: ca.Issue("n4"));

        await Assert.ThrowsAsync<ClusterHandshakeException>(() => expiredClient.Transport.ConnectAsync(server.EndPoint, Token).AsTask());
        await Await.UntilAsync(() => server.Transport.RefusedConnections >= 1, WaitLimit, "the server to refuse the expired client", Token);
        Assert.Contains("expired at", server.Events(RefusedEvent)[0].Message, StringComparison.Ordinal);

        var failure = await Assert.ThrowsAsync<ClusterHandshakeException>(() => client.Transport.ConnectAsync(expiredServer.EndPoint, Token).AsTask());
        Assert.Contains("failed authentication", failure.Message, StringComparison.Ordinal);
        Assert.Contains("expired at", failure.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_certificate_issued_to_another_node_id_is_refused_on_either_side()
    {
        using var ca = new TestCertificateAuthority(_files.Combine("ca"));
        await using var server = await StartAsync("n1", output, tls: ca.Issue("n1"));
        // n2 presents n3's certificate (a stolen or mixed-up file): the certificate is good, the claim is not.
        await using var impostor = await StartAsync("n2", output, tls: ca.Issue("n3", fileName: "n3-for-n2"));

        await Assert.ThrowsAsync<ClusterHandshakeException>(() => impostor.Transport.ConnectAsync(server.EndPoint, Token).AsTask());
        await Await.UntilAsync(() => server.Transport.RefusedConnections >= 1, WaitLimit, "the server to refuse the impostor", Token);
        var refusal = server.Events(RefusedEvent)[0].Message;
        Assert.Contains("says it is node n2", refusal, StringComparison.Ordinal);
        Assert.Contains("issued to n3", refusal, StringComparison.Ordinal);

        var failure = await Assert.ThrowsAsync<ClusterHandshakeException>(() => server.Transport.ConnectAsync(impostor.EndPoint, Token).AsTask());
        Assert.Contains("says it is node n2", failure.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_node_with_tls_and_a_node_without_refuse_each_other_naming_cluster_tls()
    {
        using var ca = new TestCertificateAuthority(_files.Combine("ca"));
        await using var tlsNode = await StartAsync("n1", output, tls: ca.Issue("n1"));
        await using var plainNode = await StartAsync("n2", output);

        await Assert.ThrowsAsync<ClusterHandshakeException>(() => plainNode.Transport.ConnectAsync(tlsNode.EndPoint, Token).AsTask());
        await Await.UntilAsync(() => tlsNode.Transport.RefusedConnections >= 1, WaitLimit, "the TLS node to refuse the plain one", Token);
        Assert.Contains("this node requires TLS (cluster.tls", tlsNode.Events(RefusedEvent)[0].Message, StringComparison.Ordinal);

        await Assert.ThrowsAsync<ClusterHandshakeException>(() => tlsNode.Transport.ConnectAsync(plainNode.EndPoint, Token).AsTask());
        await Await.UntilAsync(() => plainNode.Transport.RefusedConnections >= 1, WaitLimit, "the plain node to refuse the TLS one", Token);
        Assert.Contains("the peer uses cluster.tls and this node does not", plainNode.Events(RefusedEvent)[0].Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_ca_rotated_in_the_documented_order_is_used_by_new_connections_without_a_restart_and_established_ones_keep_working()
    {
        using var ca = new TestCertificateAuthority(_files.Combine("ca"));
        using var newCa = new TestCertificateAuthority(_files.Combine("new-ca"), "New CA");
        var serverFiles = ca.Issue("n1");
        var clientFiles = ca.Issue("n2");
        // Without liveness watches: on a loaded machine a late ping would abort the established connection, which is
        // not what this test is about (ClusterTransportTests covers the watch).
        await using var server = await StartAsync("n1", output, tls: serverFiles, watchLiveness: false);
        await using var client = await StartAsync("n2", output, tls: clientFiles, watchLiveness: false);
        // A member nobody updates: it trusts the old CA only (its own copy of the file; the others share one), so it
        // shows which certificate the server presents.
        var laggardCa = _files.Combine("laggard-ca.crt");
        File.Copy(ca.CaFile, laggardCa);
        await using var laggard = await StartAsync("n3", output, tls: ca.Issue("n3") with { Ca = laggardCa }, watchLiveness: false);
        var accepting = server.Listener.AcceptAsync(Token).AsTask();
        await using var established = await client.Transport.ConnectAsync(server.EndPoint, Token);
        await using var inbound = (await accepting)!;

        // docs/security.md: first every member trusts both CAs, then each gets a certificate from the new one.
        Assert.Equal(clientFiles.Ca, serverFiles.Ca);
        File.WriteAllText(serverFiles.Ca, File.ReadAllText(ca.CaFile) + File.ReadAllText(newCa.CaFile));
        var rotated = newCa.Issue("n1", fileName: "n1-new");
        File.Copy(rotated.Key, serverFiles.Key, overwrite: true);
        File.Copy(rotated.Cert, serverFiles.Cert, overwrite: true);

        await Await.UntilAsync(
            async () =>
            {
                try
                {
                    await using var probe = await laggard.Transport.ConnectAsync(server.EndPoint, Token);
                    return false;
                }
                catch (ClusterHandshakeException e)
                {
                    return e.Message.Contains("not issued by a trusted CA", StringComparison.Ordinal);
                }
            },
            WaitLimit, "a new connection to present the server's certificate from the new CA", Token);
        Assert.Contains(server.Logs.GetSnapshot(), line => line.Id.Id == 5116 && line.Message.Contains("CN=n1", StringComparison.Ordinal));

        var acceptingAgain = server.Listener.AcceptAsync(Token).AsTask();
        await using (await client.Transport.ConnectAsync(server.EndPoint, Token))
        {
            await acceptingAgain;
        }
        await SendAsync(established, "still up", Token);
        Assert.Equal("still up", await ReceiveAsync(inbound, 8, Token));
    }

    [Fact]
    public async Task A_half_replaced_pair_is_reported_and_the_previous_certificate_stays_in_use()
    {
        using var ca = new TestCertificateAuthority(_files.Combine("ca"));
        var serverFiles = ca.Issue("n1");
        await using var server = await StartAsync("n1", output, tls: serverFiles);
        await using var client = await StartAsync("n2", output, tls: ca.Issue("n2"));

        // Only the certificate was copied so far: it does not match the key.
        File.Copy(ca.Issue("n1", fileName: "n1-next").Cert, serverFiles.Cert, overwrite: true);
        // Each new connection asks for the newest files (at most once a second): connections keep succeeding meanwhile.
        await Await.UntilAsync(
            async () =>
            {
                await using var connection = await client.Transport.ConnectAsync(server.EndPoint, Token);
                return server.Logs.GetSnapshot().Any(line => line.Id.Id == 5117);
            },
            WaitLimit, "the failed reload to be logged", Token);

        var failure = Assert.Single(server.Logs.GetSnapshot(), line => line.Id.Id == 5117);
        Assert.Equal(LogLevel.Error, failure.Level);
        Assert.Contains("the previous ones stay in use", failure.Message, StringComparison.Ordinal);
        await using var stillWorks = await client.Transport.ConnectAsync(server.EndPoint, Token);
    }
}
