using System.Security.Cryptography.X509Certificates;

namespace Switchman.Core.Security;

/// <summary>One loaded set of a node's TLS files: its certificate with key, and the authorities its peers' certificates must chain to.</summary>
public sealed record TlsCredentials(X509Certificate2 Certificate, X509Certificate2Collection Authorities);
