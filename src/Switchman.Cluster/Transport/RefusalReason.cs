namespace Switchman.Cluster.Transport;

/// <summary>Why the server side refused an inbound cluster connection.</summary>
internal enum RefusalReason
{
    /// <summary>The peer's proof did not match the secret, or the peer could not verify ours.</summary>
    WrongSecret,

    /// <summary>The first bytes are not a Switchman cluster hello of our version.</summary>
    BadMagicOrVersion,

    /// <summary>
    /// The handshake did not finish within the handshake timeout. Not a refusal: a peer that was frozen (SIGSTOP, a VM
    /// pause) or cut off mid-handshake looks exactly like this, so it is counted as abandoned.
    /// </summary>
    Timeout,

    /// <summary>
    /// The peer closed or reset the connection mid-handshake without having sent anything wrong: it gave up (its own
    /// timeout ran out while this node or the network was slow). Not a refusal; counted as abandoned.
    /// </summary>
    Abandoned,

    /// <summary>The hello was not well formed: bytes that no Switchman node sends.</summary>
    Malformed,

    /// <summary>
    /// TLS refused (cluster.tls): the peer sent no TLS hello, or its certificate is from another CA, expired, not for
    /// TLS authentication, or not issued to the node id it claims.
    /// </summary>
    Untrusted,

    /// <summary>Too many handshakes were in progress already.</summary>
    Overloaded,

    /// <summary>
    /// The peer closed the connection without sending a byte (a port probe, or a dialer that gave up). Not counted as a
    /// refusal: nothing was refused.
    /// </summary>
    NoHello,
}

internal static class RefusalReasons
{
    /// <summary>
    /// Whether the peer did something a node with the right secret never does (a refusal, counted and logged as a
    /// warning), rather than stop halfway (abandoned: counted apart, so an alert on refusals does not fire after a pause).
    /// </summary>
    public static bool IsRefusal(this RefusalReason reason) => reason is not (RefusalReason.Timeout or RefusalReason.Abandoned or RefusalReason.NoHello);
}
