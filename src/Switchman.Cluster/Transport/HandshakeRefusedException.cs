namespace Switchman.Cluster.Transport;

/// <summary>The server side of the handshake refuses the peer; caught by the listener, logged and counted.</summary>
internal sealed class HandshakeRefusedException(RefusalReason reason, string detail) : Exception(detail)
{
    public RefusalReason Reason { get; } = reason;

    public string Detail { get; } = detail;
}
