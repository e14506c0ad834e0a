using System.Net;
using System.Net.Sockets;
using System.Text;
using Switchman.Admin.Clustering;
using Switchman.Testing;
using Xunit.Abstractions;

namespace Switchman.ClusterFunctionalTests;

/// <summary>Node-to-node calls (<c>/_cluster/…</c>) under the admin API's failed-authentication limit.</summary>
public sealed class NodeToNodeAuthTests(ITestOutputHelper output)
{
    [Fact]
    public async Task Forged_signatures_are_refused_and_logged_ten_times_then_429_unlogged_a_node_that_signed_from_there_before_still_served()
    {
        await using var cluster = new SwitchmanTestCluster(output, voters: 1, run: TestClusterNodes.InProcess);
        await cluster.StartAllAsync();
        var node = cluster.Nodes[0];
        await cluster.WaitForLeaderAsync();
        var genuine = new ClusterSignature(Encoding.UTF8.GetBytes((await File.ReadAllTextAsync(cluster.SecretFile)).Trim()), TimeProvider.System);
        var forged = new ClusterSignature("not the cluster's secret at all"u8.ToArray(), TimeProvider.System);
        using var peerHost = new HttpClient(LoopbackSource.Handler(LoopbackSource.Address(5))) { BaseAddress = new Uri(node.AdminUrl) };

        // A peer on that host asks as peers do: it is a node known there from now on.
        Assert.Equal(HttpStatusCode.OK, await SelfAsync(peerHost, genuine, "n1"));
        // Then someone there impersonates it without the secret.
        for (var i = 0; i < 10; i++)
        {
            Assert.Equal(HttpStatusCode.Unauthorized, await SelfAsync(peerHost, forged, "n1"));
        }
        Assert.Equal(HttpStatusCode.TooManyRequests, await SelfAsync(peerHost, forged, "n1"));
        Assert.Equal(HttpStatusCode.TooManyRequests, await SelfAsync(peerHost, forged, "n7"));

        // The peer itself goes on; a valid signature from a node never seen there is answered like a forgery.
        Assert.Equal(HttpStatusCode.OK, await SelfAsync(peerHost, genuine, "n1"));
        Assert.Equal(HttpStatusCode.TooManyRequests, await SelfAsync(peerHost, genuine, "n2"));
        // Each refusal was logged while the address had failures left, and not one after: one line for the lockout.
        Assert.Equal(10, cluster.Logs(node).WithEventId(2121).Count);
        Assert.Single(cluster.Logs(node).WithEventId(3002));
        // A call that claims a node never seen there is refused before its body is read: this one never sends its body.
        Assert.StartsWith("HTTP/1.1 429", await ProposeWithoutBodyAsync(node, "n7"), StringComparison.Ordinal);
    }

    /// <summary>Headers of a propose that announce a body, and no body: what the node answers within 5 s.</summary>
    private static async Task<string> ProposeWithoutBodyAsync(TestClusterMember node, string nodeId)
    {
        var source = LoopbackSource.Address(5);
        using var socket = new Socket(source.AddressFamily, SocketType.Stream, ProtocolType.Tcp);
        socket.Bind(new IPEndPoint(source, 0));
        await socket.ConnectAsync(IPAddress.Loopback, node.AdminPort);
        await socket.SendAsync(Encoding.ASCII.GetBytes(
            $"POST /_cluster/propose HTTP/1.1\r\nHost: {node.AdminUrl[7..]}\r\n{ClusterSignature.HeaderName}: {nodeId} 0 00\r\nContent-Length: 100000\r\n\r\n"));
        var buffer = new byte[4096];
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(5));
        var read = await socket.ReceiveAsync(buffer, SocketFlags.None, timeout.Token);
        return Encoding.ASCII.GetString(buffer, 0, read);
    }

    private static async Task<HttpStatusCode> SelfAsync(HttpClient client, ClusterSignature signature, string nodeId)
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, "/_cluster/self");
        request.Headers.Add(ClusterSignature.HeaderName, signature.Sign(nodeId, "GET", "/_cluster/self", []));
        using var response = await client.SendAsync(request);
        return response.StatusCode;
    }
}
