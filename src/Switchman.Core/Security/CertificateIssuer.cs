using System.Net;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;

namespace Switchman.Core.Security;

/// <summary>
/// Makes a small private CA and the certificates it issues to nodes (ECDSA P-256, SHA-256), as <c>switchman tls</c>
/// writes them. A node certificate names the node id as a DNS subject alternative name (what cluster connections check)
/// and, if given, the addresses peers use for its admin API; it allows both TLS server and client authentication,
/// because a node both accepts and makes cluster connections.
/// </summary>
public static class CertificateIssuer
{
    /// <summary>A CA certificate with its key, valid from a minute ago (clock skew) for <paramref name="validity"/>.</summary>
    public static X509Certificate2 CreateAuthority(string name, TimeSpan validity, DateTimeOffset now)
    {
        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var request = new CertificateRequest(new X500DistinguishedName($"CN={Escape(name)}"), key, HashAlgorithmName.SHA256);
        request.CertificateExtensions.Add(new X509BasicConstraintsExtension(certificateAuthority: true, hasPathLengthConstraint: true, pathLengthConstraint: 0, critical: true));
        request.CertificateExtensions.Add(new X509KeyUsageExtension(X509KeyUsageFlags.KeyCertSign | X509KeyUsageFlags.CrlSign, critical: true));
        request.CertificateExtensions.Add(new X509SubjectKeyIdentifierExtension(request.PublicKey, critical: false));
        return request.CreateSelfSigned(now.AddMinutes(-1), now + validity);
    }

    /// <summary>A certificate for node <paramref name="nodeId"/>, issued by <paramref name="authority"/> (which must hold its key).</summary>
    /// <param name="notBefore">Null: a minute before <paramref name="now"/>.</param>
    public static X509Certificate2 IssueNode(
        X509Certificate2 authority, string nodeId, IEnumerable<IPAddress> addresses, TimeSpan validity, DateTimeOffset now, DateTimeOffset? notBefore = null)
    {
        ArgumentNullException.ThrowIfNull(authority);
        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var request = new CertificateRequest(new X500DistinguishedName($"CN={Escape(nodeId)}"), key, HashAlgorithmName.SHA256);
        var names = new SubjectAlternativeNameBuilder();
        names.AddDnsName(nodeId);
        foreach (var address in addresses)
        {
            names.AddIpAddress(address);
        }
        request.CertificateExtensions.Add(names.Build());
        request.CertificateExtensions.Add(new X509BasicConstraintsExtension(certificateAuthority: false, hasPathLengthConstraint: false, pathLengthConstraint: 0, critical: true));
        request.CertificateExtensions.Add(new X509KeyUsageExtension(X509KeyUsageFlags.DigitalSignature, critical: true));
        request.CertificateExtensions.Add(new X509EnhancedKeyUsageExtension(
            [new Oid("1.3.6.1.5.5.7.3.1"), new Oid("1.3.6.1.5.5.7.3.2")], critical: false));
        request.CertificateExtensions.Add(X509AuthorityKeyIdentifierExtension.CreateFromCertificate(authority, includeKeyIdentifier: true, includeIssuerAndSerial: false));
        var from = notBefore ?? now.AddMinutes(-1);
        var until = from + validity;
        var notAfter = until < authority.NotAfter ? until : new DateTimeOffset(authority.NotAfter.ToUniversalTime(), TimeSpan.Zero);
        var serial = RandomNumberGenerator.GetBytes(16);
        serial[0] &= 0x7F; // a positive serial number
        using var issued = request.Create(authority, from, notAfter, serial);
        return issued.CopyWithPrivateKey(key);
    }

    /// <summary>Writes the certificate (PEM) to <paramref name="certPath"/> and its key (PKCS#8 PEM, mode 0600) to <paramref name="keyPath"/>.</summary>
    public static void Write(X509Certificate2 certificate, string certPath, string keyPath)
    {
        ArgumentNullException.ThrowIfNull(certificate);
        using var key = certificate.GetECDsaPrivateKey() ?? throw new ArgumentException("the certificate has no ECDSA private key", nameof(certificate));
        File.WriteAllText(certPath, certificate.ExportCertificatePem() + "\n");
        WritePrivate(keyPath, key.ExportPkcs8PrivateKeyPem() + "\n");
    }

    /// <summary>Loads a CA written by <see cref="Write"/>, key included, to issue with.</summary>
    public static X509Certificate2 LoadAuthority(string certPath, string keyPath)
    {
        var authority = X509Certificate2.CreateFromPemFile(certPath, keyPath);
        if (authority.Extensions.OfType<X509BasicConstraintsExtension>().FirstOrDefault() is not { CertificateAuthority: true })
        {
            authority.Dispose();
            throw new CryptographicException($"'{certPath}' is not a CA certificate (basic constraints do not say CA)");
        }
        return authority;
    }

    private static void WritePrivate(string path, string text)
    {
        // Created with mode 0600 before the key is written: there is no moment at which another user could read it.
        var options = new FileStreamOptions { Mode = FileMode.Create, Access = FileAccess.Write };
        if (!OperatingSystem.IsWindows())
        {
            options.UnixCreateMode = UnixFileMode.UserRead | UnixFileMode.UserWrite;
        }
        using (var stream = new FileStream(path, options))
        using (var writer = new StreamWriter(stream))
        {
            writer.Write(text);
        }
        if (!OperatingSystem.IsWindows())
        {
            // An existing file keeps its mode through FileMode.Create: narrow it too.
            File.SetUnixFileMode(path, UnixFileMode.UserRead | UnixFileMode.UserWrite);
        }
    }

    private static string Escape(string name) => name.Replace("\\", "\\\\", StringComparison.Ordinal).Replace(",", "\\,", StringComparison.Ordinal)
        .Replace("+", "\\+", StringComparison.Ordinal).Replace("=", "\\=", StringComparison.Ordinal);
}
