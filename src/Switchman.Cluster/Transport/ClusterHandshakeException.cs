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
}
