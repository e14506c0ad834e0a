using System.Net;
using System.Security.Cryptography.X509Certificates;
using Switchman.Core.Security;

namespace Switchman.Testing;

/// <summary>
/// A private CA made for one test, writing PEM files into a directory the test owns, through the same code as
/// <c>switchman tls</c> (<see cref="CertificateIssuer"/>), so no key is ever committed.
/// </summary>
public sealed class TestCertificateAuthority : IDisposable
{
    private readonly X509Certificate2 _authority;
    private readonly string _directory;

    public TestCertificateAuthority(string directory, string name = "Switchman test CA")
    {
        _directory = directory;
        Directory.CreateDirectory(directory);
        // Valid since two years ago, so that it can issue certificates that have already expired.
        _authority = CertificateIssuer.CreateAuthority(name, TimeSpan.FromDays(3650), TimeProvider.System.GetUtcNow().AddDays(-730));
        CaFile = Path.Combine(directory, $"{FileName(name)}.crt");
        File.WriteAllText(CaFile, _authority.ExportCertificatePem() + "\n");
    }

    /// <summary>The CA certificate (PEM): what <c>cluster.tls.ca</c> names.</summary>
    public string CaFile { get; }

    /// <summary>Issues a certificate to <paramref name="nodeId"/> and writes it and its key as <c>{fileName}.crt/.key</c>.</summary>
    /// <param name="notBefore">Null: valid from a minute ago; set in the past with a short validity for an expired one.</param>
    public NodeCertificateFiles Issue(string nodeId, string? fileName = null, DateTimeOffset? notBefore = null, TimeSpan? validity = null)
    {
        using var certificate = CertificateIssuer.IssueNode(
            _authority, nodeId, [IPAddress.Loopback], validity ?? TimeSpan.FromDays(365), TimeProvider.System.GetUtcNow(), notBefore);
        var stem = Path.Combine(_directory, fileName ?? FileName(nodeId));
        var files = new NodeCertificateFiles(stem + ".crt", stem + ".key", CaFile);
        CertificateIssuer.Write(certificate, files.Cert, files.Key);
        return files;
    }

    /// <summary>
    /// An HTTP handler that presents a client certificate issued to <paramref name="clientName"/> and trusts servers whose
    /// certificate this CA issued (and no other).
    /// </summary>
    public HttpClientHandler ClientHandler(string clientName)
    {
        var files = Issue(clientName);
        var handler = new HttpClientHandler
        {
            ClientCertificateOptions = ClientCertificateOption.Manual,
            ServerCertificateCustomValidationCallback = (_, certificate, chain, _) =>
                CertificateTrust.CheckPresented(certificate, chain, [_authority], CertificatePurpose.Server, TimeProvider.System.GetUtcNow()) is null,
        };
        handler.ClientCertificates.Add(PemFiles.LoadCertificateWithKey(files.Cert, files.Key));
        return handler;
    }

    public void Dispose() => _authority.Dispose();

    private static string FileName(string name) => string.Concat(name.Select(c => char.IsLetterOrDigit(c) || c is '-' or '_' or '.' ? c : '-'));
}

/// <summary>A node's certificate, key and the CA it trusts, as <c>cluster.tls</c> names them.</summary>
public sealed record NodeCertificateFiles(string Cert, string Key, string Ca)
{
    public TlsCredentialFiles Load(TimeProvider? time = null) => new(Cert, Key, Ca, time ?? TimeProvider.System);

    /// <summary>The <c>tls:</c> map of a <c>cluster:</c> section, in flow style.</summary>
    public string Yaml => $"{{ cert: '{Cert}', key: '{Key}', ca: '{Ca}' }}";

    /// <summary>The <c>tls:</c> map of an <c>admin:</c> section that requires clients' certificates from the same CA.</summary>
    public string AdminYaml => $"{{ cert: '{Cert}', key: '{Key}', ca: '{Ca}', client_certificates: required }}";
}
