using System.Net.Security;
using System.Security.Authentication;
using System.Security.Cryptography.X509Certificates;
using Microsoft.AspNetCore.Server.Kestrel.Https;
using Microsoft.Extensions.Logging;
using Switchman.Core.Configuration;
using Switchman.Core.Security;

namespace Switchman.Admin.Security;

/// <summary>
/// HTTPS on the admin listener and on node-to-node admin calls, from <c>admin.tls</c>: the certificate and key (re-read
/// when they change on disk, so new connections use a rotated certificate), clients' certificates when required, and
/// which peers a node trusts when it calls another's admin API — those whose certificate chains to <c>admin.tls.ca</c>,
/// else to <c>cluster.tls.ca</c>, else to the system's roots with the usual host-name check.
/// </summary>
public sealed partial class AdminTls
{
    private readonly AdminTlsConfig _config;
    private readonly TlsCredentialFiles _files;
    private readonly TlsCredentialFiles? _clusterFiles;
    private readonly TimeProvider _time;

    public AdminTls(AdminTlsConfig config, ClusterTlsConfig? clusterTls, TimeProvider time)
    {
        _config = config;
        _time = time;
        _files = new TlsCredentialFiles(config.Cert, config.Key, config.Ca, time);
        _clusterFiles = config.Ca is null && clusterTls is not null ? new TlsCredentialFiles(clusterTls.Cert, clusterTls.Key, clusterTls.Ca, time) : null;
    }

    /// <summary>Serves the node's current certificate and, when required, checks the client's.</summary>
    public void ConfigureListener(HttpsConnectionAdapterOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        options.ServerCertificateSelector = (_, _) => _files.Current.Certificate;
        if (_config.ClientCertificates == AdminClientCertificates.Required)
        {
            options.ClientCertificateMode = ClientCertificateMode.RequireCertificate;
            options.ClientCertificateValidation = (certificate, chain, _) =>
                CertificateTrust.CheckPresented(certificate, chain, _files.Current.Authorities, CertificatePurpose.Client, _time.GetUtcNow()) is null;
        }
    }

    /// <summary>How a node calls another's admin API: with its own certificate (for peers that require one), trusting as described above.</summary>
    public SslClientAuthenticationOptions ClientOptions() => new()
    {
        EnabledSslProtocols = SslProtocols.Tls12 | SslProtocols.Tls13,
        CertificateRevocationCheckMode = X509RevocationMode.NoCheck,
        LocalCertificateSelectionCallback = (_, _, _, _, _) => _files.Current.Certificate,
        RemoteCertificateValidationCallback = (_, certificate, chain, errors) => TrustsPeer(certificate, chain, errors),
    };

    /// <summary>Logs changes of the files from now on (the listener exists before the node's loggers do).</summary>
    public void LogReloads(ILogger logger)
    {
        _files.Reloaded += credentials => LogReloaded(logger, credentials.Certificate.Subject, credentials.Certificate.NotAfter.ToUniversalTime());
        _files.ReloadFailed += problem => LogReloadFailed(logger, problem);
    }

    private bool TrustsPeer(X509Certificate? certificate, X509Chain? chain, SslPolicyErrors errors)
    {
        var authorities = _config.Ca is not null ? _files.Current.Authorities : _clusterFiles?.Current.Authorities;
        if (authorities is null)
        {
            return errors == SslPolicyErrors.None;
        }
        // A private CA issues only the cluster's own certificates, and node-to-node calls are signed with the cluster
        // secret besides: the chain is the check, not the host name (peers are reached at addresses the certificate
        // need not list).
        return CertificateTrust.CheckPresented(certificate, chain, authorities, CertificatePurpose.Server, _time.GetUtcNow()) is null;
    }

    [LoggerMessage(EventId = 2401, Level = LogLevel.Information,
        Message = "Admin TLS files changed and were loaded: new connections present {Subject} (valid until {NotAfter:u})")]
    private static partial void LogReloaded(ILogger logger, string subject, DateTime notAfter);

    [LoggerMessage(EventId = 2402, Level = LogLevel.Error, Message = "Admin TLS: {Problem}")]
    private static partial void LogReloadFailed(ILogger logger, string problem);
}
