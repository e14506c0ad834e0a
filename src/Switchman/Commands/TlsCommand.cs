using System.CommandLine;
using System.Net;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using Switchman.Core.Security;

namespace Switchman.Commands;

/// <summary>
/// <c>switchman tls ca</c> and <c>switchman tls cert NODE_ID</c>: a private CA for the cluster and a certificate per
/// node, as <c>cluster.tls</c> wants them (like <c>consul tls ca create</c> / <c>consul tls cert create</c>). Nothing
/// leaves the machine; keys are written with mode 0600 and never printed.
/// </summary>
internal static class TlsCommand
{
    private const string CaCertFile = "switchman-ca.crt";
    private const string CaKeyFile = "switchman-ca.key";

    public static Command Create() => new("tls", "Make the certificates of mutual TLS between cluster members (cluster.tls).")
    {
        CreateAuthority(),
        CreateNodeCertificate(),
    };

    private static Command CreateAuthority()
    {
        var directory = Directory("Where to write switchman-ca.crt (give it to every node) and switchman-ca.key (keep it off the nodes).");
        var name = new Option<string>("--name") { Description = "The CA's common name.", DefaultValueFactory = _ => "Switchman cluster CA" };
        var days = Days(3650);
        var command = new Command("ca", "Create a private CA for the cluster.") { directory, name, days };
        command.SetAction(parseResult =>
        {
            var folder = parseResult.GetValue(directory)!;
            var (certPath, keyPath) = (Path.Combine(folder, CaCertFile), Path.Combine(folder, CaKeyFile));
            if (File.Exists(keyPath))
            {
                parseResult.InvocationConfiguration.Error.WriteLine($"switchman: {keyPath} exists already; a new CA would orphan every certificate it issued. Remove it first if you mean it.");
                return ExitCodes.Invalid;
            }
            System.IO.Directory.CreateDirectory(folder);
            using var authority = CertificateIssuer.CreateAuthority(parseResult.GetValue(name)!, TimeSpan.FromDays(parseResult.GetValue(days)), TimeProvider.System.GetUtcNow());
            CertificateIssuer.Write(authority, certPath, keyPath);
            parseResult.InvocationConfiguration.Output.WriteLine($"wrote {certPath} (copy it to every node: cluster.tls.ca) and {keyPath} (mode 0600; keep it off the nodes)");
            return ExitCodes.Ok;
        });
        return command;
    }

    private static Command CreateNodeCertificate()
    {
        var nodeId = new Argument<string>("node-id") { Description = "The node's cluster.node_id: the name its certificate is issued to." };
        var directory = Directory("Where the CA's files are (switchman tls ca) and where NODE-ID.crt and NODE-ID.key are written.");
        var addresses = new Option<string[]>("--address")
        {
            Description = "An IP address to name in the certificate too (the admin listener's, for HTTPS between nodes); repeatable.",
            AllowMultipleArgumentsPerToken = true,
        };
        var days = Days(825);
        var command = new Command("cert", "Issue a node's certificate from the cluster's CA.") { nodeId, directory, addresses, days };
        command.SetAction(parseResult =>
        {
            var error = parseResult.InvocationConfiguration.Error;
            var id = parseResult.GetValue(nodeId)!;
            var folder = parseResult.GetValue(directory)!;
            var ips = new List<IPAddress>();
            foreach (var text in parseResult.GetValue(addresses) ?? [])
            {
                if (!IPAddress.TryParse(text, out var ip))
                {
                    error.WriteLine($"switchman: --address '{text}' is not an IP address");
                    return ExitCodes.Invalid;
                }
                ips.Add(ip);
            }
            X509Certificate2 authority;
            try
            {
                authority = CertificateIssuer.LoadAuthority(Path.Combine(folder, CaCertFile), Path.Combine(folder, CaKeyFile));
            }
            catch (Exception e) when (e is CryptographicException or IOException or UnauthorizedAccessException)
            {
                error.WriteLine($"switchman: cannot load the CA from {folder} ({CaCertFile}, {CaKeyFile}; make it with switchman tls ca): {e.Message}");
                return ExitCodes.Invalid;
            }
            using (authority)
            {
                using var certificate = CertificateIssuer.IssueNode(authority, id, ips, TimeSpan.FromDays(parseResult.GetValue(days)), TimeProvider.System.GetUtcNow());
                var (certPath, keyPath) = (Path.Combine(folder, $"{id}.crt"), Path.Combine(folder, $"{id}.key"));
                CertificateIssuer.Write(certificate, certPath, keyPath);
                parseResult.InvocationConfiguration.Output.WriteLine(
                    $"wrote {certPath} and {keyPath} (mode 0600) for node {id}, valid until {certificate.NotAfter.ToUniversalTime():yyyy-MM-dd}; on {id}: cluster.tls: {{ cert: {id}.crt, key: {id}.key, ca: {CaCertFile} }}");
            }
            return ExitCodes.Ok;
        });
        return command;
    }

    private static Option<string> Directory(string description) =>
        new("--dir") { Description = description, DefaultValueFactory = _ => "." };

    private static Option<int> Days(int days)
    {
        var option = new Option<int>("--days") { Description = "How many days the certificate is valid.", DefaultValueFactory = _ => days };
        option.Validators.Add(result =>
        {
            if (result.GetValueOrDefault<int>() is < 1 or > 36500)
            {
                result.AddError("--days must be from 1 to 36500");
            }
        });
        return option;
    }
}
