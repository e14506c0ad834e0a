using System.Net;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using Switchman.Core.Configuration;
using Switchman.Testing;
using Xunit.Abstractions;

namespace Switchman.AdminTests;

public class TlsTests(ITestOutputHelper output) : IAsyncLifetime
{
    private readonly DemoBackends _backends = new();

    public Task InitializeAsync() => Task.CompletedTask;

    public async Task DisposeAsync() => await _backends.DisposeAsync();

    [Fact]
    public async Task AdminTls_ApiServedOverHttps_WithTheConfiguredCertificate()
    {
        var a = await _backends.StartAsync("a");
        string? thumbprint = null;
        await using var node = await SwitchmanTestNode.StartAsync(TestConfig.Single(TestConfig.Server("a", a)), output, AdminTestNodes.Options with
        {
            Admin = (dir, admin) =>
            {
                thumbprint = WriteCertificate(Path.Combine(dir, "admin.crt"), Path.Combine(dir, "admin.key"));
                return admin with { Tls = new AdminTlsConfig { Cert = Path.Combine(dir, "admin.crt"), Key = Path.Combine(dir, "admin.key") } };
            },
        });
        X509Certificate2? presented = null;
        using var handler = new HttpClientHandler
        {
            ServerCertificateCustomValidationCallback = (_, certificate, _, _) =>
            {
                presented = certificate is null ? null : X509CertificateLoader.LoadCertificate(certificate.RawData);
                return certificate?.Thumbprint == thumbprint;
            },
        };
        using var client = node.CreateClient(TestTokens.ReadToken, handler);

        using var response = await client.GetAsync("/api/v1/status");

        Assert.StartsWith("https://", node.AdminUrl, StringComparison.Ordinal);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal(thumbprint, presented?.Thumbprint);
        presented?.Dispose();
    }

    [Fact]
    public async Task AdminTls_ReplacedCertificateFiles_NewConnectionsPresentTheNewCertificateWithoutARestart()
    {
        var a = await _backends.StartAsync("a");
        string? first = null;
        string? certPath = null, keyPath = null;
        await using var node = await SwitchmanTestNode.StartAsync(TestConfig.Single(TestConfig.Server("a", a)), output, AdminTestNodes.Options with
        {
            Admin = (dir, admin) =>
            {
                (certPath, keyPath) = (Path.Combine(dir, "admin.crt"), Path.Combine(dir, "admin.key"));
                first = WriteCertificate(certPath, keyPath);
                return admin with { Tls = new AdminTlsConfig { Cert = certPath, Key = keyPath } };
            },
        });
        Assert.Equal(first, await PresentedThumbprintAsync(node));

        var second = WriteCertificate(certPath! + ".new", keyPath! + ".new");
        File.Move(keyPath! + ".new", keyPath!, overwrite: true);
        File.Move(certPath! + ".new", certPath!, overwrite: true);

        await Await.UntilAsync(async () => await PresentedThumbprintAsync(node) == second, TimeSpan.FromSeconds(10), "a new connection to present the new certificate");
        Assert.Contains(node.Logs.GetSnapshot(), line => line.Id.Id == 2401);
    }

    /// <summary>The thumbprint of the certificate the admin listener presents to a new connection.</summary>
    private static async Task<string?> PresentedThumbprintAsync(SwitchmanTestNode node)
    {
        string? presented = null;
        using var handler = new HttpClientHandler
        {
            ServerCertificateCustomValidationCallback = (_, certificate, _, _) =>
            {
                presented = certificate?.Thumbprint;
                return true;
            },
        };
        using var client = node.CreateClient(TestTokens.ReadToken, handler);
        using var response = await client.GetAsync("/api/v1/status");
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        return presented;
    }

    /// <summary>A self-signed certificate for localhost, made on the fly; returns its thumbprint.</summary>
    private static string WriteCertificate(string certPath, string keyPath)
    {
        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var request = new CertificateRequest("CN=localhost", key, HashAlgorithmName.SHA256);
        var names = new SubjectAlternativeNameBuilder();
        names.AddIpAddress(IPAddress.Loopback);
        names.AddDnsName("localhost");
        request.CertificateExtensions.Add(names.Build());
        using var certificate = request.CreateSelfSigned(new DateTimeOffset(2024, 1, 1, 0, 0, 0, TimeSpan.Zero), new DateTimeOffset(2124, 1, 1, 0, 0, 0, TimeSpan.Zero));
        File.WriteAllText(certPath, certificate.ExportCertificatePem());
        File.WriteAllText(keyPath, key.ExportPkcs8PrivateKeyPem());
        return certificate.Thumbprint;
    }
}
