using System.Buffers.Binary;
using System.Net.Sockets;
using System.Security.Cryptography;
using System.Text;

namespace Switchman.Cluster.Transport;

/// <summary>
/// The mutual challenge–response that opens every cluster connection, before any Raft byte: on the raw socket, or
/// inside TLS when <c>cluster.tls</c> is set (then the secret is a second factor and the ids are checked against the
/// certificates as soon as each hello arrives).
/// <code>
/// client → server  hello:  "SWMC" version(1) bodyLength(u16 BE) | nonceC(32) idLen(1) id addrLen(1) addr channel(1)
/// server → client  hello:  "SWMC" version(1) bodyLength(u16 BE) | nonceS(32) idLen(1) id addrLen(1) addr proofS(32)
///                  proofS = HMAC-SHA256(secret, "…server proof" ‖ clientHello ‖ serverHello without proofS)
/// client → server  finish: status(1) proofC(32)   status 1: proofC = HMAC-SHA256(secret, "…client proof" ‖ clientHello ‖ serverHello)
///                                                  status 2: the client could not verify proofS (proofC is zeros)
/// server → client  verdict(1): 1 accepted, 0 refused
/// </code>
/// Both nonces are fresh per connection, so no proof can be replayed; the labels differ, so no proof can be reflected.
/// The channel byte (<see cref="ClusterChannel"/>: Raft or liveness pings) is covered by both proofs.
/// Every read takes exactly the bytes of the handshake, so whatever the peer sends next stays in the link for the
/// connection that carries Raft traffic. Ids and addresses are UTF-8, 1–255 bytes, without control characters.
/// </summary>
internal static class ClusterHandshake
{
    /// <summary>2: the client hello names its <see cref="ClusterChannel"/>.</summary>
    /// <summary>3: liveness pings carry a report and their answers a lease grant (<see cref="LivenessPing"/>).</summary>
    public const byte Version = 3;
    public const int MaxNameLength = 255;
    private const int NonceLength = 32;
    private const int ProofLength = 32;
    private const int HeaderLength = 7;
    private const int ChannelLength = 1;
    private const int MinBodyLength = NonceLength + 2 * (1 + 1);
    private const int MaxBodyLength = NonceLength + (2 * (1 + MaxNameLength)) + ProofLength;
    private const int FinishLength = 1 + ProofLength;
    private const byte FinishWithProof = 1;
    private const byte FinishServerProofInvalid = 2;
    private const byte VerdictAccepted = 1;
    private const byte VerdictRefused = 0;

    // The first byte of a TLS connection (a handshake record): what a node with cluster.tls sends a node without.
    private const byte TlsHandshakeRecord = 0x16;

    private static readonly UTF8Encoding StrictUtf8 = new(encoderShouldEmitUTF8Identifier: false, throwOnInvalidBytes: true);

    private static ReadOnlySpan<byte> Magic => "SWMC"u8;

    private static ReadOnlySpan<byte> ServerLabel => "switchman cluster v1 server proof"u8;

    private static ReadOnlySpan<byte> ClientLabel => "switchman cluster v1 client proof"u8;

    /// <summary>Whether <paramref name="name"/> can be sent as a node id or an address.</summary>
    public static bool IsValidName(string name) =>
        name.Length > 0 && !name.Any(char.IsControl) && StrictUtf8.GetByteCount(name) <= MaxNameLength;

    /// <summary>Authenticates the server at the other end of <paramref name="link"/> and this node to it.</summary>
    /// <param name="verifyPeer">Null when the server's hello may be believed; otherwise why not (its certificate names another node).</param>
    /// <exception cref="ClusterHandshakeException">The peer refused us, failed authentication or broke the protocol.</exception>
    public static async Task<ClusterPeerIdentity> RunClientAsync(
        ClusterLink link, ClusterPeerIdentity local, ReadOnlyMemory<byte> secret, string peerName, ClusterChannel channel,
        Func<ClusterPeerIdentity, string?> verifyPeer, CancellationToken cancellationToken)
    {
        var clientHello = BuildHello(local, trailerLength: ChannelLength);
        clientHello[^1] = (byte)channel;
        var header = new byte[HeaderLength];
        bool answered;
        try
        {
            await SendAsync(link, clientHello, cancellationToken).ConfigureAwait(false);
            answered = await ReceiveAsync(link, header, cancellationToken).ConfigureAwait(false);
        }
        catch (Exception e) when (e is IOException or SocketException && e is not ClusterHandshakeException && link.Tls is not null && !cancellationToken.IsCancellationRequested)
        {
            // The same refusal as a close: whether the peer's close arrives as a FIN or, with our hello still unread
            // on its side, as a reset is a race.
            throw TlsCertificateRefused(peerName, "it reset the connection instead of answering our hello", e);
        }
        if (!answered)
        {
            // Over TLS, a server that checks our certificate only after the TLS handshake (TLS 1.3) closes right here.
            throw link.Tls is null
                ? Refused(peerName, "it closed the connection instead of answering our hello")
                : TlsCertificateRefused(peerName, "it closed the connection instead of answering our hello", cause: null);
        }
        if (!header.AsSpan(0, Magic.Length).SequenceEqual(Magic))
        {
            throw new ClusterHandshakeException($"Cluster peer {peerName} failed authentication: it is not a Switchman cluster endpoint (bad magic).")
            {
                IsAuthenticationFailure = true,
            };
        }
        if (header[Magic.Length] != Version)
        {
            throw new ClusterHandshakeException(
                $"Cluster peer {peerName} failed authentication: it speaks cluster protocol version {header[Magic.Length]}, this node {Version}.")
            {
                IsAuthenticationFailure = true,
            };
        }
        var bodyLength = BinaryPrimitives.ReadUInt16BigEndian(header.AsSpan(Magic.Length + 1));
        if (bodyLength is < MinBodyLength + ProofLength or > MaxBodyLength)
        {
            throw Malformed(peerName, $"a hello of {bodyLength} bytes");
        }
        var serverHello = new byte[HeaderLength + bodyLength];
        header.CopyTo(serverHello, 0);
        if (!await ReceiveAsync(link, serverHello.AsMemory(HeaderLength), cancellationToken).ConfigureAwait(false))
        {
            throw Refused(peerName, "it closed the connection in the middle of its hello");
        }
        if (TryParseBody(serverHello.AsSpan(HeaderLength), ProofLength) is not { } server)
        {
            throw Malformed(peerName, "a hello with an invalid node id or address");
        }
        if (verifyPeer(server) is { } wrongPeer)
        {
            throw new ClusterHandshakeException($"Cluster peer {peerName} failed authentication: {wrongPeer}.") { IsAuthenticationFailure = true };
        }

        var expected = new byte[ProofLength];
        ComputeProof(secret.Span, ServerLabel, clientHello, serverHello.AsSpan(0, serverHello.Length - ProofLength), expected);
        var finish = new byte[FinishLength];
        if (!CryptographicOperations.FixedTimeEquals(expected, serverHello.AsSpan(serverHello.Length - ProofLength)))
        {
            // Tell the server why we leave, so that it logs "wrong secret"; we send no proof to a peer we could not verify.
            finish[0] = FinishServerProofInvalid;
            await TrySendAsync(link, finish, cancellationToken).ConfigureAwait(false);
            throw new ClusterHandshakeException(
                $"Cluster peer {peerName} failed authentication: its proof does not match this node's cluster secret (wrong secret).")
            {
                IsAuthenticationFailure = true,
            };
        }
        finish[0] = FinishWithProof;
        ComputeProof(secret.Span, ClientLabel, clientHello, serverHello, finish.AsSpan(1));
        await SendAsync(link, finish, cancellationToken).ConfigureAwait(false);

        var verdict = new byte[1];
        if (!await ReceiveAsync(link, verdict, cancellationToken).ConfigureAwait(false))
        {
            throw Refused(peerName, "it closed the connection instead of accepting our proof");
        }
        return verdict[0] switch
        {
            VerdictAccepted => server,
            VerdictRefused => throw new ClusterHandshakeException($"Cluster peer {peerName} refused the connection: it could not authenticate this node (wrong secret).")
            {
                IsAuthenticationFailure = true,
            },
            _ => throw Malformed(peerName, $"an unknown verdict {verdict[0]}"),
        };
    }

    /// <summary>Authenticates the client at the other end of <paramref name="link"/> and this node to it; returns who it is and what it dialed for.</summary>
    /// <param name="verifyPeer">Null when the client's hello may be believed; otherwise why not (its certificate names another node).</param>
    /// <exception cref="HandshakeRefusedException">The client is refused; the reason says why.</exception>
    public static async Task<(ClusterPeerIdentity Peer, ClusterChannel Channel)> RunServerAsync(
        ClusterLink link, ClusterPeerIdentity local, ReadOnlyMemory<byte> secret, Func<ClusterPeerIdentity, string?> verifyPeer,
        CancellationToken cancellationToken)
    {
        var header = new byte[HeaderLength];
        var headerRead = await ReceiveSomeAsync(link, header, cancellationToken).ConfigureAwait(false);
        if (headerRead == 0)
        {
            throw new HandshakeRefusedException(RefusalReason.NoHello, "it closed the connection without sending anything");
        }
        if (!header.AsSpan(0, int.Min(headerRead, Magic.Length)).SequenceEqual(Magic[..int.Min(headerRead, Magic.Length)]))
        {
            throw new HandshakeRefusedException(RefusalReason.BadMagicOrVersion, header[0] == TlsHandshakeRecord
                ? "a TLS hello: the peer uses cluster.tls and this node does not"
                : "not a Switchman cluster hello");
        }
        if (headerRead < HeaderLength)
        {
            throw new HandshakeRefusedException(RefusalReason.Abandoned, "it closed the connection in the middle of its hello");
        }
        if (header[Magic.Length] != Version)
        {
            throw new HandshakeRefusedException(
                RefusalReason.BadMagicOrVersion, $"cluster protocol version {header[Magic.Length]}, this node speaks {Version}");
        }
        var bodyLength = BinaryPrimitives.ReadUInt16BigEndian(header.AsSpan(Magic.Length + 1));
        if (bodyLength is < MinBodyLength + ChannelLength or > MaxBodyLength - ProofLength + ChannelLength)
        {
            throw new HandshakeRefusedException(RefusalReason.Malformed, $"a hello of {bodyLength} bytes");
        }
        var clientHello = new byte[HeaderLength + bodyLength];
        header.CopyTo(clientHello, 0);
        if (!await ReceiveAsync(link, clientHello.AsMemory(HeaderLength), cancellationToken).ConfigureAwait(false))
        {
            throw new HandshakeRefusedException(RefusalReason.Abandoned, "it closed the connection in the middle of its hello");
        }
        if (TryParseBody(clientHello.AsSpan(HeaderLength), trailerLength: ChannelLength) is not { } client
            || clientHello[^1] is not ((byte)ClusterChannel.Raft or (byte)ClusterChannel.Liveness))
        {
            throw new HandshakeRefusedException(RefusalReason.Malformed, "a hello with an invalid node id, address or channel");
        }
        var channel = (ClusterChannel)clientHello[^1];
        var claim = $"says it is node {client.NodeId} at {client.Address}";
        if (verifyPeer(client) is { } wrongPeer)
        {
            throw new HandshakeRefusedException(RefusalReason.Untrusted, wrongPeer);
        }

        var serverHello = BuildHello(local, ProofLength);
        ComputeProof(
            secret.Span, ServerLabel, clientHello, serverHello.AsSpan(0, serverHello.Length - ProofLength),
            serverHello.AsSpan(serverHello.Length - ProofLength));
        await SendAsync(link, serverHello, cancellationToken).ConfigureAwait(false);

        var finish = new byte[FinishLength];
        if (!await ReceiveAsync(link, finish, cancellationToken).ConfigureAwait(false))
        {
            throw new HandshakeRefusedException(RefusalReason.Abandoned, $"{claim}; it closed the connection before proving it knows the secret");
        }
        switch (finish[0])
        {
            case FinishServerProofInvalid:
                throw new HandshakeRefusedException(RefusalReason.WrongSecret, $"{claim}; it could not verify our proof");
            case FinishWithProof:
                var expected = new byte[ProofLength];
                ComputeProof(secret.Span, ClientLabel, clientHello, serverHello, expected);
                if (!CryptographicOperations.FixedTimeEquals(expected, finish.AsSpan(1)))
                {
                    await TrySendAsync(link, new[] { VerdictRefused }, cancellationToken).ConfigureAwait(false);
                    throw new HandshakeRefusedException(RefusalReason.WrongSecret, $"{claim}; its proof does not match");
                }
                break;
            default:
                throw new HandshakeRefusedException(RefusalReason.Malformed, $"{claim}; unknown finish status {finish[0]}");
        }
        await SendAsync(link, new[] { VerdictAccepted }, cancellationToken).ConfigureAwait(false);
        return (client, channel);
    }

    /// <summary>A hello with a fresh nonce and room for <paramref name="trailerLength"/> bytes of proof at its end.</summary>
    private static byte[] BuildHello(ClusterPeerIdentity local, int trailerLength)
    {
        var id = StrictUtf8.GetBytes(local.NodeId);
        var address = StrictUtf8.GetBytes(local.Address);
        var bodyLength = NonceLength + 1 + id.Length + 1 + address.Length + trailerLength;
        var hello = new byte[HeaderLength + bodyLength];
        Magic.CopyTo(hello);
        hello[Magic.Length] = Version;
        BinaryPrimitives.WriteUInt16BigEndian(hello.AsSpan(Magic.Length + 1), (ushort)bodyLength);
        var at = HeaderLength;
        RandomNumberGenerator.Fill(hello.AsSpan(at, NonceLength));
        at += NonceLength;
        hello[at++] = (byte)id.Length;
        id.CopyTo(hello, at);
        at += id.Length;
        hello[at++] = (byte)address.Length;
        address.CopyTo(hello, at);
        return hello;
    }

    /// <summary>The node id and address of a hello body; null when the body is not well formed.</summary>
    private static ClusterPeerIdentity? TryParseBody(ReadOnlySpan<byte> body, int trailerLength)
    {
        var rest = body[NonceLength..];
        if (TryTakeName(ref rest) is not { } nodeId || TryTakeName(ref rest) is not { } address || rest.Length != trailerLength)
        {
            return null;
        }
        return new ClusterPeerIdentity(nodeId, address);
    }

    private static string? TryTakeName(ref ReadOnlySpan<byte> rest)
    {
        if (rest.IsEmpty || rest[0] == 0 || rest.Length < 1 + rest[0])
        {
            return null;
        }
        string name;
        try
        {
            name = StrictUtf8.GetString(rest.Slice(1, rest[0]));
        }
        catch (DecoderFallbackException)
        {
            return null;
        }
        rest = rest[(1 + rest[0])..];
        return name.Any(char.IsControl) ? null : name;
    }

    private static void ComputeProof(
        ReadOnlySpan<byte> secret, ReadOnlySpan<byte> label, ReadOnlySpan<byte> clientHello, ReadOnlySpan<byte> serverHello, Span<byte> proof)
    {
        using var hmac = IncrementalHash.CreateHMAC(HashAlgorithmName.SHA256, secret);
        hmac.AppendData(label);
        hmac.AppendData(clientHello);
        hmac.AppendData(serverHello);
        hmac.GetHashAndReset(proof);
    }

    private static ClusterHandshakeException Refused(string peerName, string why) =>
        new($"Cluster peer {peerName} refused the connection: {why}.");

    /// <summary>The peer refused this node's certificate: <paramref name="how"/> it showed it (an alert, a close, a reset).</summary>
    internal static ClusterHandshakeException TlsCertificateRefused(string peerName, string how, Exception? cause)
    {
        var message = $"Cluster peer {peerName} refused this node's TLS certificate: {how} "
            + "(is the certificate issued by the peer's CA, valid now, and to this node's id? The peer's log says which).";
        return cause is null
            ? new ClusterHandshakeException(message) { IsAuthenticationFailure = true }
            : new ClusterHandshakeException(message, cause) { IsAuthenticationFailure = true };
    }

    private static ClusterHandshakeException Malformed(string peerName, string what) =>
        new($"Cluster peer {peerName} failed authentication: it sent {what}.") { IsAuthenticationFailure = true };

    private static ValueTask<int> ReceiveSomeAsync(ClusterLink link, Memory<byte> buffer, CancellationToken cancellationToken) =>
        link.ReceiveSomeAsync(buffer, cancellationToken);

    private static ValueTask<bool> ReceiveAsync(ClusterLink link, Memory<byte> buffer, CancellationToken cancellationToken) =>
        link.ReceiveAsync(buffer, cancellationToken);

    private static ValueTask SendAsync(ClusterLink link, ReadOnlyMemory<byte> buffer, CancellationToken cancellationToken) =>
        link.SendAsync(buffer, cancellationToken);

    /// <summary>A last word before closing; the peer may be gone already.</summary>
    private static async ValueTask TrySendAsync(ClusterLink link, ReadOnlyMemory<byte> buffer, CancellationToken cancellationToken)
    {
        try
        {
            await SendAsync(link, buffer, cancellationToken).ConfigureAwait(false);
        }
        catch (IOException)
        {
        }
    }
}
