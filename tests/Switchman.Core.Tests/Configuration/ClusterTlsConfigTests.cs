using System.Net;
using System.Security.Cryptography.X509Certificates;
using Switchman.Core.Configuration;
using Switchman.Core.Configuration.Writing;
using Switchman.Core.Security;

namespace Switchman.Core.Tests.Configuration;

/// <summary>
/// <c>cluster.tls</c>: the files load, and this node's certificate is one its peers will accept — a mistake is one
/// error at <c>switchman check</c> or start, naming the field, rather than every peer refusing the node later.
/// </summary>
public sealed class ClusterTlsConfigTests : IDisposable
{
    private const string Secret = "0123456789abcdef-cluster-secret";

    private readonly TempDirectory _dir = new();
    private readonly DateTimeOffset _now = TimeProvider.System.GetUtcNow();
    private readonly X509Certificate2 _ca;

    public ClusterTlsConfigTests()
    {
        File.WriteAllText(_dir.File("cluster.key"), Secret + "\n");
        _ca = CertificateIssuer.CreateAuthority("Test cluster CA", TimeSpan.FromDays(3650), _now.AddDays(-730));
        File.WriteAllText(_dir.File("ca.crt"), _ca.ExportCertificatePem());
    }

    public void Dispose()
    {
        _ca.Dispose();
        _dir.Dispose();
    }

    [Fact]
    public void LoadYaml_TlsSection_BindsPathsRelativeToTheFileAndWritesThemBack()
    {
        Issue(_ca, "lb1", "lb1");

        var config = LoadValid(Cluster("tls: { cert: lb1.crt, key: lb1.key, ca: ca.crt }"));

        Assert.Equal(new ClusterTlsConfig { Cert = _dir.File("lb1.crt"), Key = _dir.File("lb1.key"), Ca = _dir.File("ca.crt") }, config.Cluster!.Tls);
        Assert.Equal(config, LoadValid(ConfigWriter.ToYaml(config)));
    }

    [Fact]
    public void LoadYaml_CertificateFromAnotherCa_ReportedAtCert()
    {
        using var other = CertificateIssuer.CreateAuthority("Somebody else's CA", TimeSpan.FromDays(3650), _now.AddDays(-1));
        Issue(other, "lb1", "lb1");

        var error = SingleError(Cluster("tls: { cert: lb1.crt, key: lb1.key, ca: ca.crt }"), "cluster.tls.cert");

        Assert.Contains("peers would refuse this node", error.Message, StringComparison.Ordinal);
        Assert.Contains("not issued by a trusted CA", error.Message, StringComparison.Ordinal);
        Assert.Contains(_dir.File("ca.crt"), error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void LoadYaml_CertificateOfAnotherNode_ReportedWithTheCommandThatIssuesTheRightOne()
    {
        Issue(_ca, "lb2", "lb1");

        var error = SingleError(Cluster("tls: { cert: lb1.crt, key: lb1.key, ca: ca.crt }"), "cluster.tls.cert");

        Assert.Contains("issued to lb2, not to 'lb1'", error.Message, StringComparison.Ordinal);
        Assert.Contains("switchman tls cert lb1", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void LoadYaml_ExpiredCertificate_ReportedWithItsEnd()
    {
        Issue(_ca, "lb1", "lb1", notBefore: _now.AddDays(-100), validity: TimeSpan.FromDays(10));

        var error = SingleError(Cluster("tls: { cert: lb1.crt, key: lb1.key, ca: ca.crt }"), "cluster.tls.cert");

        Assert.Contains("expired at", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void LoadYaml_KeyOfAnotherCertificate_ReportedAtTheSection()
    {
        Issue(_ca, "lb1", "lb1");
        Issue(_ca, "lb1", "other");

        var error = SingleError(Cluster("tls: { cert: lb1.crt, key: other.key, ca: ca.crt }"), "cluster.tls");

        Assert.Contains("cannot load", error.Message, StringComparison.Ordinal);
        Assert.Contains(_dir.File("other.key"), error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void LoadYaml_MissingCaAndUnknownKey_EachNamed()
    {
        Issue(_ca, "lb1", "lb1");

        var missing = SingleError(Cluster("tls: { cert: lb1.crt, key: lb1.key, ca: nowhere.crt }"), "cluster.tls.ca");
        Assert.Contains("does not exist", missing.Message, StringComparison.Ordinal);

        var errors = TestConfigs.Load(Cluster("tls: { cert: lb1.crt, key: lb1.key, ca: ca.crt, verify: none }"), _dir.Path).Errors;
        Assert.Contains(errors, e => e.Path == "cluster.tls.verify" && e.Message.Contains("cert, key, ca", StringComparison.Ordinal));
    }

    private string Cluster(string extra) =>
        $"cluster:\n  node_id: lb1\n  listen: 127.0.0.1:7001\n  data_dir: data\n  secret_file: cluster.key\n  {extra}\n";

    private SwitchmanConfig LoadValid(string yaml) => TestConfigs.LoadValid(yaml, _dir.Path);

    private ConfigError SingleError(string yaml, string path)
    {
        var result = TestConfigs.Load(yaml, _dir.Path);
        var error = Assert.Single(result.Errors);
        Assert.Equal(path, error.Path);
        return error;
    }

    private void Issue(X509Certificate2 authority, string nodeId, string fileName, DateTimeOffset? notBefore = null, TimeSpan? validity = null)
    {
        using var certificate = CertificateIssuer.IssueNode(authority, nodeId, [IPAddress.Loopback], validity ?? TimeSpan.FromDays(30), _now, notBefore);
        CertificateIssuer.Write(certificate, _dir.File(fileName + ".crt"), _dir.File(fileName + ".key"));
    }
}
