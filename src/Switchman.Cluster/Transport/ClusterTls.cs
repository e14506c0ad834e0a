using System.Net.Security;
using System.Net.Sockets;
using System.Security.Authentication;
using System.Security.Cryptography.X509Certificates;
using Switchman.Core.Security;

namespace Switchman.Cluster.Transport;

/// <summary>
/// Mutual TLS 1.3 for cluster connections. Both ends present a certificate; each checks the other's against the
/// cluster's CA only (<see cref="CertificateTrust"/>), and, once the peer has said who it is in the handshake, that the
/// certificate is issued to that node id (<see cref="CheckIdentity"/>). The files are re-read when they change
/// (<see cref="TlsCredentialFiles"/>), so new connections use rotated certificates without a restart.
/// </summary>
internal sealed class ClusterTls(TlsCredentialFiles files, TimeProvider time)
{
    // Not a host name anyone resolves: peers are identified by the node id in their certificate, checked after the hello.
    private const string TargetHost = "switchman-cluster";

    private readonly Lock _sync = new();
    private (TlsCredentials Credentials, SslStreamCertificateContext Context)? _context;

    /// <summary>Runs TLS as the connecting side over <paramref name="socket"/>.</summary>
    /// <exception cref="ClusterHandshakeException">The peer's certificate is not trusted, or the peer refused ours.</exception>
    public async Task<ClusterLink> ConnectAsync(Socket socket, string peerName, CancellationToken cancellationToken)
    {
        var (credentials, context) = Current();
        string? problem = null;
        var peerCertificateAccepted = false;
        var tls = new SslStream(new ClusterSocketStream(socket), leaveInnerStreamOpen: false);
        var options = new SslClientAuthenticationOptions
        {
            TargetHost = TargetHost,
            EnabledSslProtocols = SslProtocols.Tls13,
            ClientCertificateContext = context,
            CertificateRevocationCheckMode = X509RevocationMode.NoCheck,
            AllowRenegotiation = false,
            RemoteCertificateValidationCallback = (_, certificate, chain, _) =>
                peerCertificateAccepted = (problem = Check(certificate, chain, credentials, CertificatePurpose.Server)) is null,
        };
        try
        {
            await tls.AuthenticateAsClientAsync(options, cancellationToken).ConfigureAwait(false);
            return new ClusterLink(socket, tls);
        }
        catch (AuthenticationException e)
        {
            await tls.DisposeAsync().ConfigureAwait(false);
            throw new ClusterHandshakeException(problem is not null
                ? $"Cluster peer {peerName} failed authentication: {problem}."
                : $"Cluster peer {peerName} refused TLS: {e.Message} (does it trust this node's certificate, and does it use cluster.tls?).", e)
            {
                IsAuthenticationFailure = true,
            };
        }
        catch (Exception e) when (peerCertificateAccepted && e is IOException or SocketException)
        {
            // TLS 1.3: this node's certificate goes after the peer's was accepted, and a peer that refuses it may reset the
            // connection before its alert is read (a race; the alert is the AuthenticationException above). The reset
            // comes as an IOException or, from the cluster's own socket stream, as the SocketException itself.
            await tls.DisposeAsync().ConfigureAwait(false);
            throw ClusterHandshake.TlsCertificateRefused(peerName, "it reset the connection during the TLS handshake, after this node sent its certificate", e);
        }
        catch
        {
            await tls.DisposeAsync().ConfigureAwait(false);
            throw;
        }
    }

    /// <summary>Runs TLS as the accepting side over <paramref name="socket"/>.</summary>
    /// <exception cref="HandshakeRefusedException">The client sent no TLS hello, or its certificate is not trusted.</exception>
    public async Task<ClusterLink> AcceptAsync(Socket socket, CancellationToken cancellationToken)
    {
        var first = new byte[1];
        var peeked = await socket.ReceiveAsync(first, SocketFlags.Peek, cancellationToken).ConfigureAwait(false);
        if (peeked == 0)
        {
            throw new HandshakeRefusedException(RefusalReason.NoHello, "it closed the connection without sending anything");
        }
        if (first[0] != TlsHandshakeRecord)
        {
            throw new HandshakeRefusedException(RefusalReason.Untrusted, first[0] == (byte)'S'
                ? "it speaks the plain cluster protocol, and this node requires TLS (cluster.tls is set here, not there)"
                : "not a TLS hello, and this node requires TLS (cluster.tls)");
        }
        var (credentials, context) = Current();
        string? problem = null;
        var tls = new SslStream(new ClusterSocketStream(socket), leaveInnerStreamOpen: false);
        var options = new SslServerAuthenticationOptions
        {
            EnabledSslProtocols = SslProtocols.Tls13,
            ServerCertificateContext = context,
            ClientCertificateRequired = true,
            CertificateRevocationCheckMode = X509RevocationMode.NoCheck,
            AllowRenegotiation = false,
            RemoteCertificateValidationCallback = (_, certificate, chain, _) =>
                (problem = Check(certificate, chain, credentials, CertificatePurpose.Client)) is null,
        };
        try
        {
            await tls.AuthenticateAsServerAsync(options, cancellationToken).ConfigureAwait(false);
            return new ClusterLink(socket, tls);
        }
        catch (AuthenticationException e)
        {
            await tls.DisposeAsync().ConfigureAwait(false);
            throw new HandshakeRefusedException(RefusalReason.Untrusted, problem ?? $"TLS failed: {e.Message}");
        }
        catch
        {
            await tls.DisposeAsync().ConfigureAwait(false);
            throw;
        }
    }

    /// <summary>Null when the TLS peer's certificate is issued to the node id it claims in its hello; otherwise why not.</summary>
    public static string? CheckIdentity(ClusterLink link, ClusterPeerIdentity peer) =>
        link.Tls?.RemoteCertificate is not X509Certificate certificate
            ? null
            : CertificateTrust.CheckIdentity(certificate as X509Certificate2 ?? X509CertificateLoader.LoadCertificate(certificate.GetRawCertData()), peer.NodeId) is { } problem
                ? $"it says it is node {peer.NodeId}, but {problem}"
                : null;

    // The first byte of every TLS connection: a handshake record (RFC 8446, 5.1).
    private const byte TlsHandshakeRecord = 0x16;

    private string? Check(X509Certificate? certificate, X509Chain? chain, TlsCredentials credentials, CertificatePurpose purpose) =>
        CertificateTrust.CheckPresented(certificate, chain, credentials.Authorities, purpose, time.GetUtcNow());

    /// <summary>The newest credentials and their TLS context (built once per loaded set).</summary>
    private (TlsCredentials Credentials, SslStreamCertificateContext Context) Current()
    {
        var credentials = files.Current;
        lock (_sync)
        {
            if (_context is not { } cached || !ReferenceEquals(cached.Credentials, credentials))
            {
                _context = cached = (credentials, SslStreamCertificateContext.Create(credentials.Certificate, additionalCertificates: null, offline: true));
            }
            return cached;
        }
    }
}
