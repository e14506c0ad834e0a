namespace Switchman.Cluster.Transport;

/// <summary>
/// An outbound cluster connection failed before it could carry traffic: the peer refused it, failed to authenticate,
/// did not answer in time, is not a Switchman cluster endpoint, or this node's cluster traffic is isolated.
/// </summary>
public sealed class ClusterHandshakeException : IOException
{
    public ClusterHandshakeException()
    {
    }

    public ClusterHandshakeException(string message)
        : base(message)
    {
    }

    public ClusterHandshakeException(string message, Exception innerException)
        : base(message, innerException)
    {
    }

    /// <summary>
    /// The peer is there but the two nodes do not trust each other (wrong secret, not a Switchman endpoint, another
    /// protocol version): a configuration mistake, which trying again soon does not fix.
    /// </summary>
    public bool IsAuthenticationFailure { get; init; }
}
