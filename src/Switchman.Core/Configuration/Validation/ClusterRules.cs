using System.Net;
using Switchman.Core.Security;
using Switchman.Core.Configuration.Writing;

namespace Switchman.Core.Configuration.Validation;

/// <summary>
/// Checks the <c>cluster:</c> section: who this node is, where it and its peers are reached, where the shared secret
/// is, and Raft timings that can work. Addresses are literal IPs with a port: a node's address is its identity among
/// its peers, and no node should depend on name resolution to find the others.
/// </summary>
internal static class ClusterRules
{
    public const int MaxNodeIdLength = 63;

    public const int MinSnapshotEvery = 10;

    public static readonly TimeSpan MinElectionTimeout = TimeSpan.FromMilliseconds(50);

    public static readonly TimeSpan MinRequestTimeout = TimeSpan.FromMilliseconds(100);


    private const string Path = "cluster";

    /// <param name="listeners">The admin and frontend listeners, which the cluster listener must not collide with.</param>
    public static void Validate(ClusterConfig cluster, List<ListenEndpoint> listeners, ConfigErrorCollector errors)
    {
        CheckNodeId(ConfigPath.Child(Path, "node_id"), cluster.NodeId, errors);

        var listenPath = ConfigPath.Child(Path, "listen");
        var listen = ParseAddress(listenPath, cluster.Listen, "the address its peers reach this node at", errors);
        if (listen is not null)
        {
            ConfigValidator.CheckNoCollision(listenPath, new ListenEndpoint("the cluster listener", listen.Value), listeners, errors);
        }
        ValidatePeers(cluster, listen, errors);

        if (cluster.DataDir.Length == 0)
        {
            errors.AddUnlessFailed(ConfigPath.Child(Path, "data_dir"), "must not be empty");
        }
        ValidateSecret(cluster, errors);
        if (cluster.Tls is { } tls)
        {
            ValidateTls(cluster.NodeId, tls, errors);
        }
        if (cluster is { Role: ClusterRole.Witness, Join: false, Peers.Count: 0 })
        {
            errors.AddUnlessFailed(
                ConfigPath.Child(Path, "role"),
                "a witness never leads, so it cannot form a cluster alone; list the other members in peers, or set join: true");
        }

        var minPath = ConfigPath.Child(Path, "election_timeout_min");
        if (cluster.ElectionTimeoutMin < MinElectionTimeout)
        {
            errors.AddUnlessFailed(minPath, $"must be at least {ConfigWriter.Duration(MinElectionTimeout)}");
        }
        else if (cluster.ElectionTimeoutMax <= cluster.ElectionTimeoutMin)
        {
            errors.AddUnlessFailed(
                ConfigPath.Child(Path, "election_timeout_max"),
                $"must be greater than election_timeout_min ({ConfigWriter.Duration(cluster.ElectionTimeoutMin)}), so that nodes stand at different times");
        }
        if (cluster.RequestTimeout < MinRequestTimeout)
        {
            errors.AddUnlessFailed(ConfigPath.Child(Path, "request_timeout"), $"must be at least {ConfigWriter.Duration(MinRequestTimeout)}");
        }
        if (cluster.SnapshotEvery < MinSnapshotEvery)
        {
            errors.AddUnlessFailed(ConfigPath.Child(Path, "snapshot_every"), $"must be ≥ {MinSnapshotEvery}");
        }
    }

    /// <summary>Ids and addresses unique, and neither this node's own: a node does not list itself.</summary>
    private static void ValidatePeers(ClusterConfig cluster, HostPort? listen, ConfigErrorCollector errors)
    {
        var peersPath = ConfigPath.Child(Path, "peers");
        var ownEndpoint = listen is { } own ? ToEndpoint(own) : null;
        var firstIndexById = new Dictionary<string, int>(StringComparer.Ordinal);
        var firstIndexByAddress = new Dictionary<IPEndPoint, int>();
        for (var i = 0; i < cluster.Peers.Count; i++)
        {
            var peer = cluster.Peers[i];
            var peerPath = ConfigPath.Item(peersPath, i);

            var idPath = ConfigPath.Child(peerPath, "id");
            if (CheckNodeId(idPath, peer.Id, errors))
            {
                if (peer.Id == cluster.NodeId)
                {
                    errors.AddUnlessFailed(idPath, $"'{peer.Id}' is this node's own node_id; peers lists only the other members");
                }
                else if (!firstIndexById.TryAdd(peer.Id, i))
                {
                    errors.AddUnlessFailed(idPath, $"peer id '{peer.Id}' is already used by peers[{firstIndexById[peer.Id]}]");
                }
            }

            var addressPath = ConfigPath.Child(peerPath, "address");
            if (ParseAddress(addressPath, peer.Address, "the address the peer's cluster listener listens on", errors) is not { } address)
            {
                continue;
            }
            var endpoint = ToEndpoint(address);
            if (endpoint.Equals(ownEndpoint))
            {
                errors.AddUnlessFailed(addressPath, $"{address} is this node's own cluster.listen; peers lists only the other members");
            }
            else if (!firstIndexByAddress.TryAdd(endpoint, i))
            {
                errors.AddUnlessFailed(addressPath, $"{address} is already the address of peers[{firstIndexByAddress[endpoint]}]");
            }
        }
    }

    /// <summary>Exactly one place for the secret, and that place usable now: a node must not start with a secret it
    /// cannot read, nor with one short enough to guess.</summary>
    private static void ValidateSecret(ClusterConfig cluster, ConfigErrorCollector errors)
    {
        var sources = new[] { ("secret_file", cluster.SecretFile), ("secret_env", cluster.SecretEnv) }.Where(s => s.Item2 is not null).ToList();
        if (sources.Count != 1)
        {
            errors.AddUnlessFailed(Path, sources.Count == 0
                ? "needs secret_file or secret_env, to say where the secret shared by all members is"
                : "has secret_file and secret_env; keep exactly one");
            return;
        }
        var sourcePath = ConfigPath.Child(Path, sources[0].Item1);
        if (sources[0].Item2!.Length == 0)
        {
            errors.AddUnlessFailed(sourcePath, "must not be empty");
        }
        else if (ClusterSecretSource.TryRead(cluster, out var problem) is null)
        {
            errors.AddUnlessFailed(sourcePath, problem!);
        }
    }

    /// <summary>
    /// The files load, and this node's certificate is one its peers will accept: issued by the CA, valid now, for
    /// this node's id. Caught here, a mistake is one line at start rather than every peer refusing the node.
    /// </summary>
    private static void ValidateTls(string nodeId, ClusterTlsConfig tls, ConfigErrorCollector errors)
    {
        var tlsPath = ConfigPath.Child(Path, "tls");
        var certExists = tls.Cert.Length > 0 && ConfigValidator.CheckFileExists(ConfigPath.Child(tlsPath, "cert"), tls.Cert, errors);
        var keyExists = tls.Key.Length > 0 && ConfigValidator.CheckFileExists(ConfigPath.Child(tlsPath, "key"), tls.Key, errors);
        var caExists = tls.Ca.Length > 0 && ConfigValidator.CheckFileExists(ConfigPath.Child(tlsPath, "ca"), tls.Ca, errors);
        if (!certExists || !keyExists || !caExists)
        {
            return;
        }
        TlsCredentialFiles credentials;
        try
        {
            credentials = new TlsCredentialFiles(tls.Cert, tls.Key, tls.Ca, TimeProvider.System);
        }
        catch (Exception e) when (PemFiles.IsLoadFailure(e))
        {
            errors.AddUnlessFailed(tlsPath, $"cannot load cert '{tls.Cert}', key '{tls.Key}' and ca '{tls.Ca}': {e.Message}");
            return;
        }
        var (certificate, authorities) = credentials.Current;
        var now = TimeProvider.System.GetUtcNow();
        foreach (var purpose in new[] { CertificatePurpose.Server, CertificatePurpose.Client })
        {
            if (CertificateTrust.Check(certificate, authorities, purpose, now) is { } problem)
            {
                errors.AddUnlessFailed(ConfigPath.Child(tlsPath, "cert"), $"peers would refuse this node: {problem} (ca: '{tls.Ca}')");
                return;
            }
        }
        if (Syntax.IsName(nodeId) && CertificateTrust.CheckIdentity(certificate, nodeId) is { } wrongName)
        {
            errors.AddUnlessFailed(ConfigPath.Child(tlsPath, "cert"), $"peers would refuse this node: {wrongName} (node_id); issue one with switchman tls cert {nodeId}");
        }
    }

    /// <summary>False when the id is wrong (and reported).</summary>
    private static bool CheckNodeId(string path, string id, ConfigErrorCollector errors)
    {
        if (Syntax.IsName(id) && id.Length <= MaxNodeIdLength)
        {
            return true;
        }
        errors.AddUnlessFailed(path, $"'{id}' is not a valid node id; {Syntax.NameRule}, at most {MaxNodeIdLength} characters");
        return false;
    }

    /// <summary>A literal, non-wildcard IP address and a port from 1 to 65535; null when not (and reported).</summary>
    private static HostPort? ParseAddress(string path, string text, string what, ConfigErrorCollector errors)
    {
        if (!HostPort.TryParse(text, out var address, out var error))
        {
            errors.AddUnlessFailed(path, error);
            return null;
        }
        var host = address.Value.Host;
        if (host == "*" || address.Value.Address is not { } ip)
        {
            errors.AddUnlessFailed(path, $"'{host}' is not an IP address; cluster addresses are IP addresses such as 10.0.0.1 or [fd00::1]");
            return null;
        }
        if (ip.Equals(IPAddress.Any) || ip.Equals(IPAddress.IPv6Any))
        {
            errors.AddUnlessFailed(path, $"'{host}' means every address; write {what}");
            return null;
        }
        if (address.Value.Port == 0)
        {
            errors.AddUnlessFailed(path, $"'{text}' needs a port from 1 to 65535");
            return null;
        }
        return address;
    }

    private static IPEndPoint ToEndpoint(HostPort address) => new(address.Address!, address.Port);
}
