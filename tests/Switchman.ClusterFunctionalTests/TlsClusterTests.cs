using System.Text;
using Switchman.Testing;
using Xunit.Abstractions;

namespace Switchman.ClusterFunctionalTests;

/// <summary>
/// Three real node processes with <c>cluster.tls</c>: they elect a leader and commit changes over mutual TLS, and a
/// packet capture of their cluster ports holds none of the configuration they replicate — while the same capture of a
/// cluster without TLS does (which shows the capture would see it).
/// </summary>
public sealed class TlsClusterTests(ITestOutputHelper output)
{
    private static readonly TimeSpan Converge = TimeSpan.FromSeconds(30);

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public async Task A_change_replicated_over_cluster_tls_cannot_be_read_on_the_wire(bool tls)
    {
        await using var cluster = new SwitchmanTestCluster(output, voters: 3, tls: tls);
        using var captureDirectory = new TempDirectory("switchman-pcap");
        await using var capture = await PacketCapture.StartAsync(captureDirectory.Combine("cluster.pcap"), cluster.Nodes.Select(n => n.ClusterPort));
        await cluster.StartAllAsync();
        var leader = await cluster.WaitForLeaderAsync();
        var follower = cluster.Nodes.First(n => n != leader);

        // Sent to a follower, forwarded to the leader, replicated to every member in the log's entries.
        var canary = $"canary-{Guid.NewGuid():N}"[..30];
        var revision = await cluster.AddServerAcceptedAsync(follower, canary);
        foreach (var node in cluster.Nodes)
        {
            await Await.UntilAsync(async () => (await cluster.ServersAsync(node)).Servers.Contains(canary), Converge, $"{node.Id} to run revision {revision}");
        }
        // Heartbeats flow every 25 ms: once more has been captured, everything sent before is in the file.
        await capture.WaitForMoreAsync(4096, Converge);

        var captured = capture.Captured();
        output.WriteLine($"captured {captured.Length} bytes of cluster traffic");
        Assert.Equal(!tls, captured.AsSpan().IndexOf(Encoding.UTF8.GetBytes(canary)) >= 0);
        Assert.Equal(!tls, captured.AsSpan().IndexOf("SWMC"u8) >= 0);
        if (tls)
        {
            foreach (var node in cluster.Nodes)
            {
                Assert.Contains(cluster.DescribeLogs(node, lines: 100_000).Split('\n'), line => line.Contains("mutual TLS 1.3", StringComparison.Ordinal));
            }
        }
    }

    [Fact]
    public async Task With_admin_tls_and_required_client_certificates_a_follower_forwards_changes_and_fans_out_status_over_https()
    {
        await using var cluster = new SwitchmanTestCluster(output, voters: 3, tls: true, adminTls: true);
        await cluster.StartAllAsync();
        var leader = await cluster.WaitForLeaderAsync();
        var follower = cluster.Nodes.First(n => n != leader);

        // The change goes to a follower, which forwards it to the leader's admin API: HTTPS, the follower presenting its
        // own certificate, trusting the leader's because the cluster's CA issued it.
        var revision = await cluster.AddServerAcceptedAsync(follower, "forwarded-over-https");
        foreach (var node in cluster.Nodes)
        {
            await Await.UntilAsync(async () => (await cluster.ServersAsync(node)).Servers.Contains("forwarded-over-https"), Converge, $"{node.Id} to run revision {revision}");
        }

        // The members view asks every member for its own figures, over the same HTTPS: every one answers.
        var view = await cluster.ViewAsync(follower);
        Assert.NotNull(view);
        Assert.Equal(3, view.Lags.Count);

        // A client without a certificate is refused during the TLS handshake, token or not.
        using var noCertificate = new HttpClient(new HttpClientHandler
        {
            ServerCertificateCustomValidationCallback = HttpClientHandler.DangerousAcceptAnyServerCertificateValidator,
        });
        noCertificate.DefaultRequestHeaders.Authorization = new System.Net.Http.Headers.AuthenticationHeaderValue("Bearer", TestTokens.AdminToken);
        await Assert.ThrowsAsync<HttpRequestException>(() => noCertificate.GetAsync(new Uri($"{leader.AdminUrl}/api/v1/status")));
    }
}
