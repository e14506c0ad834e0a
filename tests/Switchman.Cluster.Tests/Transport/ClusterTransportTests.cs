using System.Buffers.Binary;
using System.Net.Sockets;
using System.Text;
using Microsoft.AspNetCore.Connections;
using Microsoft.AspNetCore.Connections.Features;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Time.Testing;
using Switchman.Cluster.Transport;
using Switchman.Testing;
using Xunit.Abstractions;
using static Switchman.Cluster.Tests.Transport.TransportTestNode;

namespace Switchman.Cluster.Tests.Transport;

public sealed class ClusterTransportTests(ITestOutputHelper output) : IDisposable
{
    private const int RefusedEvent = 5101;
    private const int AbandonedEvent = 5111;
    private const int UnreachableEvent = 5112;
    private static readonly TimeSpan WaitLimit = TimeSpan.FromSeconds(10);
    private static readonly DateTimeOffset Start = new(2026, 1, 1, 12, 0, 0, TimeSpan.Zero);
    private readonly CancellationTokenSource _timeout = new(TimeSpan.FromSeconds(30));

    private CancellationToken Token => _timeout.Token;

    public void Dispose() => _timeout.Dispose();

    [Fact]
    public async Task Peers_with_the_same_secret_connect_and_exchange_bytes_both_ways()
    {
        await using var server = await StartAsync("n1", output);
        await using var client = await StartAsync("n2", output);

        var accepting = server.Listener.AcceptAsync(Token).AsTask();
        await using var outbound = await client.Transport.ConnectAsync(server.EndPoint, Token);
        await using var inbound = (await accepting)!;

        Assert.Equal(new ClusterPeerIdentity("n2", client.Address), inbound.Features.Get<ClusterPeerIdentity>());
        Assert.Equal(new ClusterPeerIdentity("n1", server.Address), outbound.Features.Get<ClusterPeerIdentity>());
        // What DotNext takes from the connection: Kestrel's memory pool and its block size.
        Assert.NotNull(inbound.Features.Get<IMemoryPoolFeature>()?.MemoryPool);
        Assert.True(outbound.Transport.Output.GetSpan().Length >= 1024);

        await SendAsync(outbound, "ping", Token);
        Assert.Equal("ping", await ReceiveAsync(inbound, 4, Token));
        await SendAsync(inbound, "pong", Token);
        Assert.Equal("pong", await ReceiveAsync(outbound, 4, Token));
        await SendAsync(outbound, "again", Token);
        Assert.Equal("again", await ReceiveAsync(inbound, 5, Token));

        Assert.Equal(0, server.Transport.RefusedConnections);
        Assert.Equal(0, client.Transport.RefusedConnections);
    }

    [Fact]
    public async Task A_port_zero_local_address_becomes_the_bound_port()
    {
        await using var node = await StartAsync("n1", output);

        Assert.Equal(node.EndPoint, node.Transport.LocalAddress);
        Assert.NotEqual(":0", node.Address[^2..]);
    }

    [Fact]
    public async Task A_client_with_a_wrong_secret_is_refused_and_never_accepted()
    {
        await using var server = await StartAsync("n1", output);
        var wrongSecret = "a different secret, same length"u8.ToArray();
        await using var rogue = await StartAsync("rogue", output, wrongSecret);
        await using var good = await StartAsync("good", output);
        var accepting = server.Listener.AcceptAsync(Token).AsTask();

        var refusal = await Assert.ThrowsAsync<ClusterHandshakeException>(() => rogue.Transport.ConnectAsync(server.EndPoint, Token).AsTask());

        Assert.Contains("failed authentication", refusal.Message, StringComparison.Ordinal);
        Assert.Contains("wrong secret", refusal.Message, StringComparison.Ordinal);
        await Await.UntilAsync(() => server.Transport.RefusedConnections >= 1, WaitLimit, "the server to count the refusal", Token);
        // The rogue's Raft connection and its liveness watch are both refused; the watch then waits seconds before
        // dialing again, so a misconfigured node does not flood its peers' logs.
        Assert.InRange(server.Transport.RefusedConnections, 1, 2);
        Assert.All(server.Events(RefusedEvent), line =>
        {
            Assert.Equal(LogLevel.Warning, line.Level);
            Assert.StartsWith("Refused cluster connection from 127.0.0.1:", line.Message, StringComparison.Ordinal);
            Assert.Contains("wrong secret", line.Message, StringComparison.Ordinal);
            Assert.Contains("node rogue", line.Message, StringComparison.Ordinal);
        });
        Assert.False(accepting.IsCompleted, "AcceptAsync returned the refused connection");

        // The next connection AcceptAsync returns is the good one.
        await using var outbound = await good.Transport.ConnectAsync(server.EndPoint, Token);
        await using var inbound = (await accepting)!;
        Assert.Equal("good", inbound.Features.Get<ClusterPeerIdentity>()?.NodeId);
        Assert.InRange(server.Transport.RefusedConnections, 1, 2);
        Assert.False(server.Transport.TryGetLastContact(rogue.Address, out _));

        // No side ever logs the secret.
        foreach (var node in new[] { server, rogue, good })
        {
            foreach (var record in node.Logs.GetSnapshot())
            {
                Assert.DoesNotContain(Encoding.UTF8.GetString(Secret), record.Message, StringComparison.Ordinal);
                Assert.DoesNotContain(Encoding.UTF8.GetString(wrongSecret), record.Message, StringComparison.Ordinal);
                Assert.DoesNotContain(Convert.ToHexString(Secret), record.Message, StringComparison.OrdinalIgnoreCase);
            }
        }
    }

    [Fact]
    public async Task A_server_with_a_wrong_secret_fails_authentication_at_the_client()
    {
        await using var impostor = await StartAsync("impostor", output, "not the cluster's secret at all"u8.ToArray());
        await using var client = await StartAsync("n2", output);

        var failure = await Assert.ThrowsAsync<ClusterHandshakeException>(() => client.Transport.ConnectAsync(impostor.EndPoint, Token).AsTask());

        Assert.Contains($"Cluster peer {impostor.Address} failed authentication", failure.Message, StringComparison.Ordinal);
        Assert.False(client.Transport.TryGetLastContact(impostor.Address, out _));
    }

    [Fact]
    public async Task A_client_that_skips_verification_and_sends_a_forged_proof_is_refused()
    {
        await using var server = await StartAsync("n1", output);
        using var socket = await ConnectRawAsync(server);

        await socket.SendAsync(ClientHello("forger", "127.0.0.1:9"), Token);
        var header = await ReadExactlyAsync(socket, 7);
        Assert.Equal("SWMC"u8.ToArray(), header[..4]);
        await ReadExactlyAsync(socket, BinaryPrimitives.ReadUInt16BigEndian(header.AsSpan(5)));
        var forged = new byte[33];
        forged[0] = 1;
        forged.AsSpan(1).Fill(0x5a);
        await socket.SendAsync(forged, Token);

        Assert.Equal(new byte[] { 0 }, await ReadExactlyAsync(socket, 1));
        await Await.UntilAsync(() => server.Transport.RefusedConnections == 1, WaitLimit, "the forged proof to be refused", Token);
        Assert.Contains("wrong secret", Assert.Single(server.Events(RefusedEvent)).Message, StringComparison.Ordinal);
        Assert.False(server.Transport.TryGetLastContact("127.0.0.1:9", out _));
    }

    [Fact]
    public async Task Garbage_is_refused_and_silent_clients_time_out_without_delaying_a_good_client()
    {
        var time = new FakeTimeProvider(Start);
        await using var server = await StartAsync("n1", output, timeProvider: time, handshakeTimeout: TimeSpan.FromSeconds(2));
        await using var client = await StartAsync("n2", output, timeProvider: time);
        // The silent client connects first, so its handshake (and its timeout) started before the good client's.
        using var silent = await ConnectRawAsync(server);
        using var garbage = await ConnectRawAsync(server);
        await garbage.SendAsync("GET / HTTP/1.1\r\nHost: cluster\r\n\r\n"u8.ToArray(), Token);
        var accepting = server.Listener.AcceptAsync(Token).AsTask();

        await using var outbound = await client.Transport.ConnectAsync(server.EndPoint, Token);
        await using var inbound = (await accepting)!;

        Assert.Equal("n2", inbound.Features.Get<ClusterPeerIdentity>()?.NodeId);
        await Await.UntilAsync(() => server.Transport.RefusedConnections == 1, WaitLimit, "the garbage client to be refused", Token);
        Assert.Contains("bad magic or version", Assert.Single(server.Events(RefusedEvent)).Message, StringComparison.Ordinal);
        await AssertClosedByPeerAsync(garbage);

        // The silent client is still waiting: only the handshake timeout ends it. A timeout is what a frozen or cut-off
        // peer leaves behind, so it is counted as abandoned, not as a refusal.
        Assert.Equal(0, server.Transport.AbandonedHandshakes);
        time.Advance(TimeSpan.FromSeconds(2));
        await Await.UntilAsync(() => server.Transport.AbandonedHandshakes == 1, WaitLimit, "the silent client to time out", Token);
        Assert.Contains("handshake timed out", Assert.Single(server.Events(AbandonedEvent)).Message, StringComparison.Ordinal);
        Assert.Equal(1, server.Transport.RefusedConnections);
        await AssertClosedByPeerAsync(silent);

        // The good connection was not disturbed.
        await SendAsync(outbound, "still here", Token);
        Assert.Equal("still here", await ReceiveAsync(inbound, 10, Token));
    }

    [Fact]
    public async Task A_client_that_leaves_without_a_byte_is_not_counted_as_refused()
    {
        await using var server = await StartAsync("n1", output);

        using (await ConnectRawAsync(server))
        {
        }

        await Await.UntilAsync(() => server.Events(5110).Count == 1, WaitLimit, "the server to notice the empty connection", Token);
        Assert.Equal(0, server.Transport.RefusedConnections);
        Assert.Empty(server.Events(RefusedEvent));
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task A_client_that_gives_up_mid_handshake_is_counted_as_abandoned_not_refused(bool afterFullHello)
    {
        await using var server = await StartAsync("n1", output);

        // What a peer that was frozen (SIGSTOP) or cut off leaves behind: its own timeout ran out and it closed the
        // socket, either halfway through its hello or before sending its proof.
        using (var socket = await ConnectRawAsync(server))
        {
            var hello = ClientHello("n2", "127.0.0.1:9");
            await socket.SendAsync(afterFullHello ? hello : hello.AsMemory(0, 20), Token);
            if (afterFullHello)
            {
                var header = await ReadExactlyAsync(socket, 7);
                await ReadExactlyAsync(socket, BinaryPrimitives.ReadUInt16BigEndian(header.AsSpan(5)));
            }
        }

        await Await.UntilAsync(() => server.Transport.AbandonedHandshakes == 1, WaitLimit, "the server to notice the abandoned handshake", Token);
        Assert.Equal(0, server.Transport.RefusedConnections);
        Assert.Empty(server.Events(RefusedEvent));
        Assert.Contains("gave up", Assert.Single(server.Events(AbandonedEvent)).Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_client_speaking_another_protocol_version_is_refused()
    {
        await using var server = await StartAsync("n1", output);
        using var socket = await ConnectRawAsync(server);
        var hello = ClientHello("future", "127.0.0.1:9");
        hello[4] = (byte)(ClusterHandshake.Version + 1);

        await socket.SendAsync(hello, Token);

        await AssertClosedByPeerAsync(socket);
        await Await.UntilAsync(() => server.Transport.RefusedConnections == 1, WaitLimit, "the refusal", Token);
        Assert.Contains("bad magic or version", Assert.Single(server.Events(RefusedEvent)).Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public async Task Isolate_aborts_live_connections_and_refuses_new_ones_until_healed(bool isolateServer)
    {
        await using var server = await StartAsync("n1", output);
        await using var client = await StartAsync("n2", output);
        var accepting = server.Listener.AcceptAsync(Token).AsTask();
        await using var outbound = await client.Transport.ConnectAsync(server.EndPoint, Token);
        await using var inbound = (await accepting)!;
        await SendAsync(outbound, "ping", Token);
        Assert.Equal("ping", await ReceiveAsync(inbound, 4, Token));
        var (isolated, other) = isolateServer ? (server, client) : (client, server);

        isolated.Transport.Gate.Isolate();

        Assert.True(isolated.Transport.Gate.IsIsolated);
        await AssertEndedAsync(inbound, Token);
        await AssertEndedAsync(outbound, Token);
        accepting = server.Listener.AcceptAsync(Token).AsTask();
        // Both directions are refused: the isolated node neither dials out nor lets anyone in.
        var started = TimeProvider.System.GetTimestamp();
        var outward = await Assert.ThrowsAsync<ClusterHandshakeException>(() => isolated.Transport.ConnectAsync(other.EndPoint, Token).AsTask());
        Assert.Contains("isolated", outward.Message, StringComparison.Ordinal);
        Assert.True(TimeProvider.System.GetElapsedTime(started) < TimeSpan.FromSeconds(1), "an isolated connect should fail at once");
        var inward = await Assert.ThrowsAsync<ClusterHandshakeException>(() => other.Transport.ConnectAsync(isolated.EndPoint, Token).AsTask());
        // Refused by the isolated server, or (when the client's liveness watch has already seen the server go silent)
        // failed by the client without dialing: either way no connection is made.
        Assert.Matches("refused|is unreachable", inward.Message);
        Assert.False(accepting.IsCompleted);
        Assert.Equal(0, server.Transport.RefusedConnections);
        Assert.Equal(0, client.Transport.RefusedConnections);

        if (isolateServer)
        {
            // The client's liveness watch sees the server go silent (on a busy machine, some time after the cut)...
            await Await.UntilAsync(() => client.Transport.Reachability(server.Address) == PeerReachability.Unreachable, WaitLimit,
                "the client to see the server stop answering", Token);
        }

        isolated.Transport.Gate.Heal();

        Assert.False(isolated.Transport.Gate.IsIsolated);
        // ...and lets connections through again once it answers (a healed client forgets what it saw while isolated).
        await Await.UntilAsync(() => client.Transport.Reachability(server.Address) != PeerReachability.Unreachable, WaitLimit,
            "the client to see the server answer again", Token);
        await using var outboundAgain = await client.Transport.ConnectAsync(server.EndPoint, Token);
        await using var inboundAgain = (await accepting)!;
        await SendAsync(inboundAgain, "back", Token);
        Assert.Equal("back", await ReceiveAsync(outboundAgain, 4, Token));
    }

    [Fact]
    public async Task A_peer_that_stops_answering_is_unreachable_new_connects_fail_at_once_and_it_is_reachable_again_when_it_answers()
    {
        await using var server = await StartAsync("n1", output);
        await using var client = await StartAsync("n2", output);
        var accepting = server.Listener.AcceptAsync(Token).AsTask();
        await using var outbound = await client.Transport.ConnectAsync(server.EndPoint, Token);
        await using var inbound = (await accepting)!;
        await Await.UntilAsync(() => client.Transport.Reachability(server.Address) == PeerReachability.Reachable, WaitLimit,
            "the client's liveness watch to see the server answer", Token);

        server.Transport.Gate.Isolate();

        await Await.UntilAsync(() => client.Transport.Reachability(server.Address) == PeerReachability.Unreachable, WaitLimit,
            "the client to see the server stop answering", Token);
        await AssertEndedAsync(outbound, Token);
        // Refused without dialing: a candidate's vote to a dead peer must fail now, not at a timeout.
        var started = TimeProvider.System.GetTimestamp();
        var refused = await Assert.ThrowsAsync<ClusterHandshakeException>(() => client.Transport.ConnectAsync(server.EndPoint, Token).AsTask());
        Assert.Contains($"Cluster peer {server.Address} is unreachable", refused.Message, StringComparison.Ordinal);
        Assert.True(TimeProvider.System.GetElapsedTime(started) < TimeSpan.FromSeconds(1), "a connect to an unreachable peer should fail at once");
        Assert.NotEmpty(client.Events(UnreachableEvent));
        Assert.Equal(0, server.Transport.RefusedConnections);

        server.Transport.Gate.Heal();

        await Await.UntilAsync(() => client.Transport.Reachability(server.Address) == PeerReachability.Reachable, WaitLimit,
            "the client to see the server answer again", Token);
        accepting = server.Listener.AcceptAsync(Token).AsTask();
        await using var again = await client.Transport.ConnectAsync(server.EndPoint, Token);
        await using var inboundAgain = (await accepting)!;
        await SendAsync(again, "back", Token);
        Assert.Equal("back", await ReceiveAsync(inboundAgain, 4, Token));
    }

    [Fact]
    public async Task Last_contact_is_when_bytes_last_arrived_from_the_peer()
    {
        var time = new FakeTimeProvider(Start);
        await using var server = await StartAsync("n1", output, timeProvider: time);
        await using var client = await StartAsync("n2", output, timeProvider: time);
        Assert.False(server.Transport.TryGetLastContact(client.Address, out _));

        var accepting = server.Listener.AcceptAsync(Token).AsTask();
        await using var outbound = await client.Transport.ConnectAsync(server.EndPoint, Token);
        await using var inbound = (await accepting)!;

        // The handshake itself is contact.
        Assert.Equal(Start, LastContact(server, client));
        Assert.Equal(Start, LastContact(client, server));

        time.Advance(TimeSpan.FromSeconds(10));
        await SendAsync(outbound, "hello", Token);
        await ReceiveAsync(inbound, 5, Token);
        Assert.Equal(Start.AddSeconds(10), LastContact(server, client));
        Assert.Equal(Start, LastContact(client, server));

        time.Advance(TimeSpan.FromSeconds(5));
        await SendAsync(inbound, "reply", Token);
        await ReceiveAsync(outbound, 5, Token);
        Assert.Equal(Start.AddSeconds(15), LastContact(client, server));
        Assert.Equal(Start.AddSeconds(10), LastContact(server, client));

        Assert.False(server.Transport.TryGetLastContact("127.0.0.1:1", out _));
    }

    [Fact]
    public async Task Dispose_closes_listeners_and_connections()
    {
        var server = await StartAsync("n1", output);
        await using var client = await StartAsync("n2", output);
        var accepting = server.Listener.AcceptAsync(Token).AsTask();
        await using var outbound = await client.Transport.ConnectAsync(server.EndPoint, Token);
        await accepting;
        using var pending = await ConnectRawAsync(server);

        await server.DisposeAsync();

        await AssertEndedAsync(outbound, Token);
        await AssertClosedByPeerAsync(pending);
        Assert.Null(await server.Listener.AcceptAsync(Token));
        await Assert.ThrowsAnyAsync<Exception>(() => client.Transport.ConnectAsync(server.EndPoint, Token).AsTask());
    }

    [Fact]
    public void Options_are_checked()
    {
        var address = new System.Net.IPEndPoint(System.Net.IPAddress.Loopback, 7000);
        using var loggerFactory = LoggerFactory.Create(_ => { });

        Assert.Throws<ArgumentException>(() => new ClusterTransport(
            new ClusterTransportOptions("n1", address, new byte[15], TimeSpan.FromSeconds(1)), loggerFactory, TimeProvider.System));
        Assert.Throws<ArgumentException>(() => new ClusterTransport(
            new ClusterTransportOptions("", address, Secret, TimeSpan.FromSeconds(1)), loggerFactory, TimeProvider.System));
        Assert.Throws<ArgumentException>(() => new ClusterTransport(
            new ClusterTransportOptions("n1\n", address, Secret, TimeSpan.FromSeconds(1)), loggerFactory, TimeProvider.System));
        Assert.Throws<ArgumentOutOfRangeException>(() => new ClusterTransport(
            new ClusterTransportOptions("n1", address, Secret, TimeSpan.Zero), loggerFactory, TimeProvider.System));
    }

    private static DateTimeOffset LastContact(TransportTestNode at, TransportTestNode peer) =>
        at.Transport.TryGetLastContact(peer.Address, out var when) ? when : throw new InvalidOperationException($"No contact with {peer.Address}.");

    private async Task<Socket> ConnectRawAsync(TransportTestNode server)
    {
        var socket = new Socket(SocketType.Stream, ProtocolType.Tcp);
        await socket.ConnectAsync(server.EndPoint, Token);
        return socket;
    }

    private async Task<byte[]> ReadExactlyAsync(Socket socket, int length)
    {
        var buffer = new byte[length];
        var read = 0;
        while (read < length)
        {
            var received = await socket.ReceiveAsync(buffer.AsMemory(read), SocketFlags.None, Token);
            Assert.NotEqual(0, received);
            read += received;
        }
        return buffer;
    }

    /// <summary>The server closes the socket: the next read ends (end of stream or reset).</summary>
    private async Task AssertClosedByPeerAsync(Socket socket)
    {
        var buffer = new byte[64];
        try
        {
            while (await socket.ReceiveAsync(buffer, SocketFlags.None, Token) > 0)
            {
            }
        }
        catch (SocketException e) when (e.SocketErrorCode == SocketError.ConnectionReset)
        {
        }
    }

    /// <summary>A well-formed client hello of this protocol version, built by hand.</summary>
    private static byte[] ClientHello(string nodeId, string address)
    {
        var id = Encoding.UTF8.GetBytes(nodeId);
        var addr = Encoding.UTF8.GetBytes(address);
        var body = new byte[32 + 1 + id.Length + 1 + addr.Length + 1];
        Random.Shared.NextBytes(body.AsSpan(0, 32));
        body[32] = (byte)id.Length;
        id.CopyTo(body, 33);
        body[33 + id.Length] = (byte)addr.Length;
        addr.CopyTo(body, 34 + id.Length);
        body[^1] = 1; // the Raft channel
        var hello = new byte[7 + body.Length];
        "SWMC"u8.CopyTo(hello);
        hello[4] = ClusterHandshake.Version;
        BinaryPrimitives.WriteUInt16BigEndian(hello.AsSpan(5), (ushort)body.Length);
        body.CopyTo(hello, 7);
        return hello;
    }
}
