using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;

namespace Switchman.Core.Tests.Configuration;

/// <summary>Self-signed PEM certificates made on the fly, so no private key is ever committed.</summary>
internal static class TestCertificates
{
    // A fixed validity window keeps the test independent of the clock; loading does not check validity.
    private static readonly DateTimeOffset NotBefore = new(2024, 1, 1, 0, 0, 0, TimeSpan.Zero);
    private static readonly DateTimeOffset NotAfter = new(2124, 1, 1, 0, 0, 0, TimeSpan.Zero);

    /// <summary>Writes <paramref name="certPath"/> and <paramref name="keyPath"/> (PEM) for a certificate of <paramref name="host"/>.</summary>
    public static void Write(string certPath, string keyPath, string host = "example.com")
    {
        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var request = new CertificateRequest($"CN={host}", key, HashAlgorithmName.SHA256);
        var names = new SubjectAlternativeNameBuilder();
        names.AddDnsName(host);
        request.CertificateExtensions.Add(names.Build());
        using var certificate = request.CreateSelfSigned(NotBefore, NotAfter);
        Directory.CreateDirectory(Path.GetDirectoryName(Path.GetFullPath(certPath))!);
        Directory.CreateDirectory(Path.GetDirectoryName(Path.GetFullPath(keyPath))!);
        File.WriteAllText(certPath, certificate.ExportCertificatePem());
        File.WriteAllText(keyPath, key.ExportPkcs8PrivateKeyPem());
    }
}

/// <summary>A temporary directory removed when the test ends.</summary>
internal sealed class TempDirectory : IDisposable
{
    public TempDirectory() => Directory.CreateDirectory(Path);

    public string Path { get; } = System.IO.Path.Combine(System.IO.Path.GetTempPath(), "switchman-tests-" + Guid.NewGuid().ToString("N"));

    public string File(string relative) => System.IO.Path.Combine(Path, relative);

    public void Dispose() => Directory.Delete(Path, recursive: true);
}
