using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;

namespace Switchman.Core.Configuration.Validation;

/// <summary>Checks that a PEM certificate and key load together, the way the TLS listener will load them.</summary>
internal static class CertificateFiles
{
    /// <summary>Null when the pair loads; otherwise why not, in the operating system's or crypto library's words.</summary>
    public static string? Check(string certPath, string keyPath)
    {
        try
        {
            using var certificate = X509Certificate2.CreateFromPemFile(certPath, keyPath);
            return certificate.HasPrivateKey ? null : $"the key in '{keyPath}' did not attach to the certificate";
        }
        catch (Exception e) when (e is CryptographicException or IOException or UnauthorizedAccessException or ArgumentException)
        {
            return $"cannot load certificate '{certPath}' with key '{keyPath}': {e.Message}";
        }
    }
}
