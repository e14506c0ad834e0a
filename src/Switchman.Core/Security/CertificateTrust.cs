using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;

namespace Switchman.Core.Security;

/// <summary>
/// The one check of a peer's certificate against a private CA: it chains to one of the given authorities (and only to
/// them: the machine's public roots are not consulted), it is valid at the given time, it allows the purpose, and it
/// names the identity the peer claims. Revocation is not checked (a private CA rarely publishes a CRL; rotate the CA
/// instead, docs/security.md).
/// </summary>
public static class CertificateTrust
{
    private static readonly Oid ServerAuthentication = new("1.3.6.1.5.5.7.3.1");
    private static readonly Oid ClientAuthentication = new("1.3.6.1.5.5.7.3.2");

    /// <summary>Null when <paramref name="certificate"/> is trusted for <paramref name="purpose"/> at <paramref name="at"/>; otherwise why not.</summary>
    /// <param name="intermediates">Certificates the peer sent along with its own (may be null).</param>
    public static string? Check(
        X509Certificate2 certificate, X509Certificate2Collection authorities, CertificatePurpose purpose, DateTimeOffset at,
        X509Certificate2Collection? intermediates = null)
    {
        ArgumentNullException.ThrowIfNull(certificate);
        ArgumentNullException.ThrowIfNull(authorities);
        using var chain = new X509Chain();
        var policy = chain.ChainPolicy;
        policy.TrustMode = X509ChainTrustMode.CustomRootTrust;
        policy.CustomTrustStore.AddRange(authorities);
        if (intermediates is not null)
        {
            policy.ExtraStore.AddRange(intermediates);
        }
        policy.RevocationMode = X509RevocationMode.NoCheck;
        policy.VerificationTime = at.UtcDateTime;
        policy.VerificationTimeIgnored = false;
        policy.ApplicationPolicy.Add(purpose == CertificatePurpose.Server ? ServerAuthentication : ClientAuthentication);
        if (chain.Build(certificate))
        {
            return null;
        }
        return Describe(certificate, chain, purpose, at);
    }

    /// <summary>
    /// <see cref="Check(X509Certificate2, X509Certificate2Collection, CertificatePurpose, DateTimeOffset, X509Certificate2Collection?)"/>
    /// for what a TLS peer presented, as a validation callback receives it: the certificates the peer sent along with
    /// its own may help build the chain; trust comes from <paramref name="authorities"/> only.
    /// </summary>
    public static string? CheckPresented(
        X509Certificate? certificate, X509Chain? chain, X509Certificate2Collection authorities, CertificatePurpose purpose, DateTimeOffset at)
    {
        if (certificate is null)
        {
            return "it presented no certificate";
        }
        var presented = certificate as X509Certificate2 ?? X509CertificateLoader.LoadCertificate(certificate.GetRawCertData());
        var sent = new X509Certificate2Collection();
        foreach (var element in chain?.ChainElements ?? (IEnumerable<X509ChainElement>)[])
        {
            if (!element.Certificate.RawDataMemory.Span.SequenceEqual(presented.RawDataMemory.Span))
            {
                sent.Add(element.Certificate);
            }
        }
        return Check(presented, authorities, purpose, at, sent);
    }

    /// <summary>
    /// The names a certificate is issued to: its subject alternative DNS names, or, when it has none, its subject's
    /// common name (as older tooling issues them).
    /// </summary>
    public static IReadOnlyList<string> IdentitiesOf(X509Certificate2 certificate)
    {
        ArgumentNullException.ThrowIfNull(certificate);
        var names = new List<string>();
        foreach (var extension in certificate.Extensions)
        {
            if (extension is X509SubjectAlternativeNameExtension san)
            {
                names.AddRange(san.EnumerateDnsNames());
            }
        }
        if (names.Count == 0 && certificate.GetNameInfo(X509NameType.SimpleName, forIssuer: false) is { Length: > 0 } commonName)
        {
            names.Add(commonName);
        }
        return names;
    }

    /// <summary>Null when the certificate is issued to <paramref name="identity"/> (exactly; DNS names compare ignoring case); otherwise why not.</summary>
    public static string? CheckIdentity(X509Certificate2 certificate, string identity)
    {
        var names = IdentitiesOf(certificate);
        return names.Contains(identity, StringComparer.OrdinalIgnoreCase)
            ? null
            : $"its certificate ({certificate.Subject}) is issued to {(names.Count == 0 ? "no name" : string.Join(", ", names))}, not to '{identity}'";
    }

    private static string Describe(X509Certificate2 certificate, X509Chain chain, CertificatePurpose purpose, DateTimeOffset at)
    {
        var flags = chain.ChainStatus.Aggregate(X509ChainStatusFlags.NoError, (all, status) => all | status.Status);
        var subject = certificate.Subject.Length > 0 ? certificate.Subject : "(no subject)";
        if (flags.HasFlag(X509ChainStatusFlags.NotTimeValid))
        {
            return at.UtcDateTime > certificate.NotAfter.ToUniversalTime()
                ? $"its certificate ({subject}) expired at {certificate.NotAfter.ToUniversalTime():yyyy-MM-dd HH:mm:ss}Z"
                : chain.ChainElements.Count > 0 && at.UtcDateTime < certificate.NotBefore.ToUniversalTime()
                    ? $"its certificate ({subject}) is not valid before {certificate.NotBefore.ToUniversalTime():yyyy-MM-dd HH:mm:ss}Z"
                    : $"a certificate in its chain ({subject}) is outside its validity period";
        }
        if (flags.HasFlag(X509ChainStatusFlags.UntrustedRoot) || flags.HasFlag(X509ChainStatusFlags.PartialChain))
        {
            return $"its certificate ({subject}, issued by {certificate.Issuer}) is not issued by a trusted CA";
        }
        if (flags.HasFlag(X509ChainStatusFlags.NotValidForUsage))
        {
            return $"its certificate ({subject}) does not allow TLS {(purpose == CertificatePurpose.Server ? "server" : "client")} authentication (extended key usage)";
        }
        var statuses = string.Join("; ", chain.ChainStatus.Select(s => s.StatusInformation.Trim()).Where(s => s.Length > 0).Distinct());
        return $"its certificate ({subject}) is not trusted: {(statuses.Length > 0 ? statuses : flags.ToString())}";
    }
}
