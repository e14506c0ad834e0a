namespace Switchman.Cluster.Transport;

/// <summary>Why the server side refused an inbound cluster connection.</summary>
internal enum RefusalReason
{
    /// <summary>The peer's proof did not match the secret, or the peer could not verify ours.</summary>
    WrongSecret,

    /// <summary>The first bytes are not a Switchman cluster hello of our version.</summary>
    BadMagicOrVersion,

    /// <summary>The handshake did not finish within the handshake timeout.</summary>
    Timeout,

    /// <summary>The hello was not well formed, or the peer closed or reset the connection mid-handshake.</summary>
    Malformed,

    /// <summary>Too many handshakes were in progress already.</summary>
    Overloaded,

    /// <summary>
    /// The peer closed the connection without sending a byte (a port probe, or a dialer that gave up). Not counted as a
    /// refusal: nothing was refused.
    /// </summary>
    NoHello,
}
