using System.Security.Cryptography.X509Certificates;
using Switchman.Core.Configuration;
using Switchman.Core.Security;

namespace Switchman.Proxy.Hosting;

/// <summary>
/// Chooses the TLS certificate for a connection by SNI host name: exact names first, then wildcards (*.example.com),
/// then the first certificate as the default (also for clients that send no SNI).
/// </summary>
internal sealed class CertificateSelector
{
    private readonly Dictionary<string, X509Certificate2> _exact = new(StringComparer.OrdinalIgnoreCase);
    private readonly List<(string Suffix, X509Certificate2 Certificate)> _wildcards = [];
    private readonly X509Certificate2 _default;

    public CertificateSelector(TlsConfig tls)
    {
        X509Certificate2? first = null;
        foreach (var entry in tls.Certificates)
        {
            var certificate = Load(entry);
            first ??= certificate;
            var hosts = entry.Hosts.Count > 0 ? entry.Hosts : (IEnumerable<string>)DnsNamesOf(certificate);
            foreach (var host in hosts)
            {
                if (host.StartsWith("*.", StringComparison.Ordinal))
                {
                    _wildcards.Add((host[1..], certificate));
                }
                else
                {
                    _exact.TryAdd(host, certificate);
                }
            }
        }
        _default = first ?? throw new ArgumentException("TLS needs at least one certificate", nameof(tls));
    }

    public X509Certificate2 Select(string? hostName)
    {
        if (string.IsNullOrEmpty(hostName))
        {
            return _default;
        }
        if (_exact.TryGetValue(hostName, out var exact))
        {
            return exact;
        }
        foreach (var (suffix, certificate) in _wildcards)
        {
            if (hostName.EndsWith(suffix, StringComparison.OrdinalIgnoreCase) && hostName.Length > suffix.Length)
            {
                return certificate;
            }
        }
        return _default;
    }

    private static X509Certificate2 Load(CertificateConfig entry) => PemFiles.LoadCertificateWithKey(entry.Cert, entry.Key);

    private static IEnumerable<string> DnsNamesOf(X509Certificate2 certificate)
    {
        foreach (var extension in certificate.Extensions)
        {
            if (extension is X509SubjectAlternativeNameExtension san)
            {
                foreach (var name in san.EnumerateDnsNames())
                {
                    yield return name;
                }
            }
        }
    }
}
