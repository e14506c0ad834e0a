namespace Switchman.Core.Tests.Configuration;

public class TlsConfigTests
{
    private static string FrontendWithTls(string certificates) => $"""
        frontends:
          web:
            listen: 127.0.0.1:8443
            default_backend: api
            tls:
              certificates:
        {certificates}
        backends:
          api:
            servers: [{"{"} name: a, address: "127.0.0.1:9001" {"}"}]
        """;

    [Fact]
    public void LoadYaml_RelativeCertificatePaths_ResolvedAgainstConfigDirectory()
    {
        using var dir = new TempDirectory();
        TestCertificates.Write(dir.File("tls/site.pem"), dir.File("tls/site.key"));

        var config = TestConfigs.LoadValid(FrontendWithTls("        - cert: tls/site.pem\n          key: ./tls/../tls/site.key"), dir.Path);

        var certificate = Assert.Single(config.Frontends[0].Tls!.Certificates);
        Assert.Equal(Path.Combine(dir.Path, "tls", "site.pem"), certificate.Cert);
        Assert.Equal(Path.Combine(dir.Path, "tls", "site.key"), certificate.Key);
        Assert.Empty(certificate.Hosts);
    }

    [Fact]
    public void LoadFile_RelativeCertificatePaths_ResolvedAgainstFileDirectory()
    {
        using var dir = new TempDirectory();
        TestCertificates.Write(dir.File("conf/site.pem"), dir.File("conf/site.key"));
        var path = dir.File("conf/switchman.yaml");
        File.WriteAllText(path, FrontendWithTls("        - { cert: site.pem, key: site.key }"));

        var result = Core.Configuration.Loading.ConfigLoader.LoadFile(path);

        Assert.True(result.IsValid, string.Join("\n", result.Errors));
        Assert.Equal(dir.File("conf/site.pem"), result.Config!.Frontends[0].Tls!.Certificates[0].Cert);
    }

    [Fact]
    public void LoadYaml_AbsoluteCertificatePaths_KeptAsWritten()
    {
        using var dir = new TempDirectory();
        TestCertificates.Write(dir.File("a.pem"), dir.File("a.key"));

        var config = TestConfigs.LoadValid(FrontendWithTls($"        - {{ cert: '{dir.File("a.pem")}', key: '{dir.File("a.key")}', hosts: [a.example.com] }}"));

        Assert.Equal(dir.File("a.pem"), config.Frontends[0].Tls!.Certificates[0].Cert);
    }

    [Fact]
    public void LoadYaml_CertificateFileMissing_NamesResolvedPath()
    {
        using var dir = new TempDirectory();
        TestCertificates.Write(dir.File("a.pem"), dir.File("a.key"));
        var yaml = FrontendWithTls("        - cert: a.pem\n          key: missing.key");

        var result = TestConfigs.Load(yaml, dir.Path);

        var error = Assert.Single(result.Errors);
        Assert.Equal((8, 11, "frontends.web.tls.certificates[0].key"), (error.Line, error.Column, error.Path));
        Assert.Equal($"file '{dir.File("missing.key")}' does not exist", error.Message);
    }

    [Fact]
    public void LoadYaml_KeyOfAnotherCertificate_ReportsCryptoError()
    {
        using var dir = new TempDirectory();
        TestCertificates.Write(dir.File("a.pem"), dir.File("a.key"), "a.example.com");
        TestCertificates.Write(dir.File("b.pem"), dir.File("b.key"), "b.example.com");

        var result = TestConfigs.Load(FrontendWithTls("        - { cert: a.pem, key: b.key }"), dir.Path);

        var error = Assert.Single(result.Errors);
        Assert.Equal((7, 11, "frontends.web.tls.certificates[0]"), (error.Line, error.Column, error.Path));
        Assert.StartsWith($"cannot load certificate '{dir.File("a.pem")}' with key '{dir.File("b.key")}': ", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void LoadYaml_CertificateFileNotPem_ReportsCryptoError()
    {
        using var dir = new TempDirectory();
        TestCertificates.Write(dir.File("a.pem"), dir.File("a.key"));
        File.WriteAllText(dir.File("garbage.pem"), "this is not a certificate");

        var result = TestConfigs.Load(FrontendWithTls("        - { cert: garbage.pem, key: a.key }"), dir.Path);

        var error = Assert.Single(result.Errors);
        Assert.Equal("frontends.web.tls.certificates[0]", error.Path);
        Assert.Contains("cannot load certificate", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void LoadYaml_BadSniHost_IsReported()
    {
        using var dir = new TempDirectory();
        TestCertificates.Write(dir.File("a.pem"), dir.File("a.key"));

        var result = TestConfigs.Load(FrontendWithTls("        - { cert: a.pem, key: a.key, hosts: ['*.', ok.example.com] }"), dir.Path);

        var error = Assert.Single(result.Errors);
        Assert.Equal("frontends.web.tls.certificates[0].hosts[0]", error.Path);
    }
}
