using System.Net;

namespace Switchman.Cluster.Transport;

/// <summary>What a <see cref="ClusterTransport"/> needs to know about its node.</summary>
/// <param name="NodeId">This node's name among its peers; sent in every handshake.</param>
/// <param name="LocalAddress">
/// This node's cluster address, as its peers list it; sent in every handshake, and the key under which peers record
/// their last contact with this node. An <see cref="IPEndPoint"/> with port 0 becomes the port actually bound by
/// <see cref="ClusterTransport.BindAsync"/> of that very endpoint (handy in tests).
/// </param>
/// <param name="Secret">The cluster's shared secret (at least 16 bytes). Never logged nor sent.</param>
/// <param name="HandshakeTimeout">
/// How long connecting plus authenticating one outbound connection may take (an inbound one is given at least a second).
/// Short: a peer that does not complete it in this time is down, frozen or cut off.
/// </param>
public sealed record ClusterTransportOptions(string NodeId, EndPoint LocalAddress, ReadOnlyMemory<byte> Secret, TimeSpan HandshakeTimeout)
{
    /// <summary>Mutual TLS for every cluster connection (cluster.tls); null: authenticated with the secret, not encrypted.</summary>
    public Core.Security.TlsCredentialFiles? Tls { get; init; }

    /// <summary>Whether peers are watched at all (<see cref="PeerLiveness"/>); only tests that drive a fake clock turn it off.</summary>
    public bool WatchLiveness { get; init; } = true;

    /// <summary>How often each peer this node talks to is pinged on its liveness connection (<see cref="PeerLiveness"/>).</summary>
    public TimeSpan LivenessInterval { get; init; } = TimeSpan.FromMilliseconds(25);

    /// <summary>
    /// A ping not answered within this time (or a liveness connection that cannot be made within it) makes the peer
    /// unreachable. Keep <see cref="LivenessInterval"/> plus this below the election timeout.
    /// </summary>
    public TimeSpan UnreachableAfter { get; init; } = TimeSpan.FromMilliseconds(50);

    /// <summary>The shortest secret accepted.</summary>
    public const int MinimumSecretLength = Core.Configuration.ClusterSecretSource.MinimumLength;
}
