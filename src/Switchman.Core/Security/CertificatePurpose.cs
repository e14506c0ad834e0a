namespace Switchman.Core.Security;

/// <summary>What a peer's certificate is checked for: the extended key usage it must allow, if it lists any.</summary>
public enum CertificatePurpose
{
    /// <summary>The peer accepted our connection (TLS server authentication, 1.3.6.1.5.5.7.3.1).</summary>
    Server,

    /// <summary>The peer made the connection (TLS client authentication, 1.3.6.1.5.5.7.3.2).</summary>
    Client,
}
