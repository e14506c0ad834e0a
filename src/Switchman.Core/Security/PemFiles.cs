using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;

namespace Switchman.Core.Security;

/// <summary>
/// Loads the PEM files every TLS endpoint of a node uses (frontends, the admin listener, cluster traffic) in one way, so
/// that what <c>switchman check</c> accepts is what a listener can use.
/// </summary>
public static class PemFiles
{
    /// <summary>A certificate with its private key, usable by <see cref="System.Net.Security.SslStream"/>.</summary>
    /// <exception cref="CryptographicException">The files are not a certificate and its key.</exception>
    /// <exception cref="IOException">A file cannot be read.</exception>
    public static X509Certificate2 LoadCertificateWithKey(string certPath, string keyPath)
    {
        using var pem = X509Certificate2.CreateFromPemFile(certPath, keyPath);
        if (!pem.HasPrivateKey)
        {
            throw new CryptographicException($"the key in '{keyPath}' did not attach to the certificate in '{certPath}'");
        }
        // Re-imported: a key read from PEM is ephemeral, and SslStream on Linux needs one it can hand to OpenSSL.
        return X509CertificateLoader.LoadPkcs12(pem.Export(X509ContentType.Pkcs12), null);
    }

    /// <summary>The certificates of a PEM bundle (a CA file): at least one.</summary>
    /// <exception cref="CryptographicException">The file holds no certificate, or a malformed one.</exception>
    /// <exception cref="IOException">The file cannot be read.</exception>
    public static X509Certificate2Collection LoadAuthorities(string path)
    {
        var authorities = new X509Certificate2Collection();
        authorities.ImportFromPemFile(path);
        if (authorities.Count == 0)
        {
            throw new CryptographicException($"'{path}' holds no PEM certificate (-----BEGIN CERTIFICATE-----)");
        }
        return authorities;
    }

    /// <summary>Null when the pair loads; otherwise why not, in the crypto library's words.</summary>
    public static string? CheckCertificateWithKey(string certPath, string keyPath) =>
        Problem(() => LoadCertificateWithKey(certPath, keyPath).Dispose(), $"cannot load certificate '{certPath}' with key '{keyPath}'");

    /// <summary>Null when the bundle loads; otherwise why not.</summary>
    public static string? CheckAuthorities(string path) =>
        Problem(() => LoadAuthorities(path), $"cannot load the CA certificates in '{path}'");

    internal static bool IsLoadFailure(Exception e) =>
        e is CryptographicException or IOException or UnauthorizedAccessException or ArgumentException;

    private static string? Problem(Action load, string what)
    {
        try
        {
            load();
            return null;
        }
        catch (Exception e) when (IsLoadFailure(e))
        {
            return $"{what}: {e.Message}";
        }
    }
}
