namespace Switchman.Cluster.Transport;

/// <summary>
/// Who is at the other end of an authenticated cluster connection, as it said in the handshake (and proved it knows the
/// secret). Found in the connection's <c>Features</c>.
/// </summary>
/// <param name="NodeId">The peer's node id.</param>
/// <param name="Address">The peer's cluster address, formatted as by <see cref="ClusterTransport.FormatAddress"/>.</param>
public sealed record ClusterPeerIdentity(string NodeId, string Address);
