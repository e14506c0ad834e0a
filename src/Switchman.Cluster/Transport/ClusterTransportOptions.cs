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
/// <param name="HandshakeTimeout">How long connecting plus authenticating one connection may take, each direction.</param>
public sealed record ClusterTransportOptions(string NodeId, EndPoint LocalAddress, ReadOnlyMemory<byte> Secret, TimeSpan HandshakeTimeout)
{
    /// <summary>The shortest secret accepted.</summary>
    public const int MinimumSecretLength = Core.Configuration.ClusterSecretSource.MinimumLength;
}
