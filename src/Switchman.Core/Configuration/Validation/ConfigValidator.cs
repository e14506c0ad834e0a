using Switchman.Core.Security;

namespace Switchman.Core.Configuration.Validation;

/// <summary>
/// Checks a bound configuration for values that are well-formed but wrong: out of range, dangling references,
/// colliding listeners, unloadable certificates. Collects every error rather than stopping at the first.
/// </summary>
public static class ConfigValidator
{
    private const int MaxWeight = 256;
    private const int MaxRetries = 10;

    /// <summary>Validates a configuration that did not come from a file (built in code, or received as JSON);
    /// the errors carry field paths but no line numbers.</summary>
    public static IReadOnlyList<ConfigError> Validate(SwitchmanConfig config, string sourceName)
    {
        ArgumentNullException.ThrowIfNull(config);
        var errors = new ConfigErrorCollector(new ConfigSourceMap(sourceName));
        Validate(config, errors);
        return errors.ToList();
    }

    /// <summary>Validates into a collector whose source map locates each path in the file it was loaded from.</summary>
    internal static void Validate(SwitchmanConfig config, ConfigErrorCollector errors)
    {
        var listeners = new List<ListenEndpoint>();
        foreach (var frontend in config.Frontends)
        {
            ValidateFrontend(frontend, config, listeners, errors);
        }
        foreach (var backend in config.Backends)
        {
            ValidateBackend(backend, errors);
        }
        ValidateVips(config.Vips, errors);
        ValidateVipInterfaces(config, errors);
        ServiceRules.Validate(config, errors);
        ValidateAdmin(config.Admin, listeners, errors);
        if (config.Cluster is { } cluster)
        {
            ClusterRules.Validate(cluster, listeners, errors);
        }
        if (config.DataDir is { Length: 0 })
        {
            errors.AddUnlessFailed("data_dir", "must be a directory path (or leave data_dir out to keep the change log in memory)");
        }
        else if (config.DataDir is not null && config.Cluster is not null)
        {
            errors.AddUnlessFailed("data_dir", "a cluster member keeps its state in cluster.data_dir; remove the top-level data_dir");
        }
        if (config.AccessLog.Path is { Length: 0 })
        {
            errors.AddUnlessFailed("access_log.path", "must be 'stdout' or a file path");
        }
    }

    private static void ValidateFrontend(FrontendConfig frontend, SwitchmanConfig config, List<ListenEndpoint> listeners, ConfigErrorCollector errors)
    {
        var path = ConfigPath.Child("frontends", frontend.Name);
        CheckName(path, frontend.Name, errors);

        var listenPath = ConfigPath.Child(path, "listen");
        if (ParseListen(listenPath, frontend.Listen, errors) is { } listen)
        {
            var endpoint = new ListenEndpoint($"frontend '{frontend.Name}'", listen);
            CheckNoCollision(listenPath, endpoint, listeners, errors);
            listeners.Add(endpoint);
        }

        if (frontend.Protocols.Count == 0)
        {
            errors.AddUnlessFailed(ConfigPath.Child(path, "protocols"), "needs at least one protocol: http1, http2");
        }
        if (frontend.Tls is { } tls)
        {
            ValidateTls(ConfigPath.Child(path, "tls"), tls, errors);
        }
        var timeoutsPath = ConfigPath.Child(path, "timeouts");
        CheckPositive(ConfigPath.Child(timeoutsPath, "client_idle"), frontend.Timeouts.ClientIdle, errors);
        CheckPositive(ConfigPath.Child(timeoutsPath, "request_headers"), frontend.Timeouts.RequestHeaders, errors);

        var routesPath = ConfigPath.Child(path, "routes");
        for (var i = 0; i < frontend.Routes.Count; i++)
        {
            ValidateRoute(ConfigPath.Item(routesPath, i), frontend.Routes[i], config, errors);
        }
        foreach (var page in frontend.ErrorPages)
        {
            var pagePath = ConfigPath.Child(ConfigPath.Child(path, "error_pages"), page.Status.ToString(System.Globalization.CultureInfo.InvariantCulture));
            if (page.Status is < 400 or > 599)
            {
                errors.AddUnlessFailed(pagePath, $"{page.Status} is not an error status: error pages are for 400 to 599");
            }
            else if (page.File.Length == 0)
            {
                errors.AddUnlessFailed(pagePath, "must be the path of a file with the body");
            }
            else if (CheckFileExists(pagePath, page.File, errors) && new FileInfo(page.File).Length > ErrorPageConfig.MaxBytes)
            {
                errors.AddUnlessFailed(pagePath, $"file '{page.File}' is larger than {ErrorPageConfig.MaxBytes / 1024} KiB: an error body should be short");
            }
        }
        if (frontend.DefaultBackend is { } defaultBackend)
        {
            CheckBackendExists(ConfigPath.Child(path, "default_backend"), defaultBackend, config, errors);
        }
        else if (frontend.Routes.Count == 0)
        {
            errors.AddUnlessFailed(path, "has neither routes nor a default_backend, so it could only answer 404");
        }
    }

    private static void ValidateTls(string path, TlsConfig tls, ConfigErrorCollector errors)
    {
        var certificatesPath = ConfigPath.Child(path, "certificates");
        if (tls.Certificates.Count == 0)
        {
            errors.AddUnlessFailed(certificatesPath, "TLS needs at least one certificate");
        }
        for (var i = 0; i < tls.Certificates.Count; i++)
        {
            var certificate = tls.Certificates[i];
            var itemPath = ConfigPath.Item(certificatesPath, i);
            var certExists = CheckFileExists(ConfigPath.Child(itemPath, "cert"), certificate.Cert, errors);
            var keyExists = CheckFileExists(ConfigPath.Child(itemPath, "key"), certificate.Key, errors);
            if (certExists && keyExists && PemFiles.CheckCertificateWithKey(certificate.Cert, certificate.Key) is { } problem)
            {
                errors.AddUnlessFailed(itemPath, problem);
            }
            var hostsPath = ConfigPath.Child(itemPath, "hosts");
            for (var h = 0; h < certificate.Hosts.Count; h++)
            {
                CheckHostPattern(ConfigPath.Item(hostsPath, h), certificate.Hosts[h], errors);
            }
        }
    }

    internal static bool CheckFileExists(string path, string file, ConfigErrorCollector errors)
    {
        if (File.Exists(file))
        {
            return true;
        }
        errors.AddUnlessFailed(path, $"file '{file}' does not exist");
        return false;
    }

    private static void ValidateRoute(string path, RouteConfig route, SwitchmanConfig config, ConfigErrorCollector errors)
    {
        if (route.Host is { } host)
        {
            CheckHostPattern(ConfigPath.Child(path, "host"), host, errors);
        }
        if (!route.Path.StartsWith('/'))
        {
            errors.AddUnlessFailed(ConfigPath.Child(path, "path"), $"'{route.Path}' must start with '/'");
        }
        CheckBackendExists(ConfigPath.Child(path, "backend"), route.Backend, config, errors);
    }

    private static void CheckBackendExists(string path, string name, SwitchmanConfig config, ConfigErrorCollector errors)
    {
        if (config.FindBackend(name) is not null)
        {
            return;
        }
        var known = config.Backends.Count == 0
            ? "no backends are defined"
            : "defined backends: " + string.Join(", ", config.Backends.Select(b => b.Name));
        errors.AddUnlessFailed(path, $"backend '{name}' does not exist; {known}");
    }

    private static void ValidateVipInterfaces(SwitchmanConfig config, ConfigErrorCollector errors)
    {
        foreach (var local in config.VipInterfaces)
        {
            var path = ConfigPath.Child("vip_interfaces", local.Vip);
            if (config.Vips.All(v => v.Name != local.Vip))
            {
                var known = config.Vips.Count == 0 ? "no VIP is configured" : "configured VIPs: " + string.Join(", ", config.Vips.Select(v => v.Name));
                errors.AddUnlessFailed(path, $"there is no VIP '{local.Vip}'; {known}");
            }
            CheckInterface(path, local.Interface, errors);
        }
    }

    /// <summary>Linux interface names: at most 15 bytes, no '/', no white space.</summary>
    private static void CheckInterface(string path, string name, ConfigErrorCollector errors)
    {
        if (name.Length is 0 or > 15 || name.Any(c => c == '/' || char.IsWhiteSpace(c)))
        {
            errors.AddUnlessFailed(path, $"'{name}' is not a network interface name (1 to 15 characters, no '/' or spaces)");
        }
    }

    private static void ValidateVips(IReadOnlyList<VipConfig> vips, ConfigErrorCollector errors)
    {
        var names = new HashSet<string>(StringComparer.Ordinal);
        var addresses = new Dictionary<System.Net.IPAddress, string>();
        for (var i = 0; i < vips.Count; i++)
        {
            var vip = vips[i];
            var path = $"vips[{i}]";
            CheckName(ConfigPath.Child(path, "name"), vip.Name, errors);
            if (!names.Add(vip.Name))
            {
                errors.AddUnlessFailed(ConfigPath.Child(path, "name"), $"VIP '{vip.Name}' is declared twice");
            }
            if (!VipAddress.TryParse(vip.Address, out var address, out var problem))
            {
                errors.AddUnlessFailed(ConfigPath.Child(path, "address"), problem!);
            }
            else if (addresses.TryGetValue(address!.Address, out var other))
            {
                errors.AddUnlessFailed(ConfigPath.Child(path, "address"), $"{address.Address} is already the address of VIP '{other}'");
            }
            else
            {
                addresses[address.Address] = vip.Name;
            }
            CheckInterface(ConfigPath.Child(path, "interface"), vip.Interface, errors);
            var nodes = new HashSet<string>(StringComparer.Ordinal);
            for (var n = 0; n < vip.Nodes.Count; n++)
            {
                var nodePath = $"{ConfigPath.Child(path, "nodes")}[{n}]";
                CheckName(nodePath, vip.Nodes[n], errors);
                if (!nodes.Add(vip.Nodes[n]))
                {
                    errors.AddUnlessFailed(nodePath, $"node '{vip.Nodes[n]}' is listed twice");
                }
            }
            if (vip.Pool is { } pool)
            {
                CheckName(ConfigPath.Child(path, "pool"), pool, errors);
            }
        }
    }

    private static void ValidateBackend(BackendConfig backend, ConfigErrorCollector errors)
    {
        var path = ConfigPath.Child("backends", backend.Name);
        CheckName(path, backend.Name, errors);

        var serversPath = ConfigPath.Child(path, "servers");
        if (backend.Servers.Count == 0)
        {
            errors.AddUnlessFailed(serversPath, "a backend needs at least one server");
        }
        var firstIndexByName = new Dictionary<string, int>(StringComparer.Ordinal);
        for (var i = 0; i < backend.Servers.Count; i++)
        {
            var server = backend.Servers[i];
            var serverPath = ConfigPath.Item(serversPath, i);
            ValidateServer(serverPath, server, errors);
            if (server.Name.Length > 0 && !firstIndexByName.TryAdd(server.Name, i))
            {
                errors.AddUnlessFailed(
                    ConfigPath.Child(serverPath, "name"),
                    $"server name '{server.Name}' is already used by servers[{firstIndexByName[server.Name]}]");
            }
        }

        if (backend.Health is { } health)
        {
            ValidateHealth(ConfigPath.Child(path, "health"), health, errors);
        }
        if (backend.Passive is { } passive)
        {
            var passivePath = ConfigPath.Child(path, "passive");
            CheckAtLeast(ConfigPath.Child(passivePath, "consecutive_failures"), passive.ConsecutiveFailures, 1, errors);
            CheckPositive(ConfigPath.Child(passivePath, "eject_for"), passive.EjectFor, errors);
        }
        ValidateRetry(ConfigPath.Child(path, "retry"), backend.Retry, errors);

        var timeoutsPath = ConfigPath.Child(path, "timeouts");
        CheckPositive(ConfigPath.Child(timeoutsPath, "connect"), backend.Timeouts.Connect, errors);
        CheckPositive(ConfigPath.Child(timeoutsPath, "per_try"), backend.Timeouts.PerTry, errors);
        CheckPositive(ConfigPath.Child(timeoutsPath, "total"), backend.Timeouts.Total, errors);

        if (backend.SlowStart < TimeSpan.Zero)
        {
            errors.AddUnlessFailed(ConfigPath.Child(path, "slow_start"), "must not be negative");
        }
        if (backend.Sticky is { } sticky && !Syntax.IsToken(sticky.Cookie))
        {
            errors.AddUnlessFailed(ConfigPath.Child(ConfigPath.Child(path, "sticky"), "cookie"), $"'{sticky.Cookie}' is not a valid cookie name");
        }
    }

    private static void ValidateServer(string path, ServerConfig server, ConfigErrorCollector errors)
    {
        CheckName(ConfigPath.Child(path, "name"), server.Name, errors);
        var addressPath = ConfigPath.Child(path, "address");
        if (!HostPort.TryParse(server.Address, out var address, out var error))
        {
            errors.AddUnlessFailed(addressPath, error);
        }
        else if (address.Value.Port == 0)
        {
            errors.AddUnlessFailed(addressPath, $"'{server.Address}' needs a port from 1 to 65535");
        }
        else if (address.Value.Host == "*")
        {
            errors.AddUnlessFailed(addressPath, $"'{server.Address}' must name a host or IP address, not *");
        }
        if (server.Weight is < 0 or > MaxWeight)
        {
            errors.AddUnlessFailed(ConfigPath.Child(path, "weight"), $"must be from 0 to {MaxWeight}");
        }
    }

    private static void ValidateHealth(string path, HealthCheckConfig health, ConfigErrorCollector errors)
    {
        if (health.Type == HealthCheckType.Http)
        {
            if (!Syntax.IsToken(health.Method))
            {
                errors.AddUnlessFailed(ConfigPath.Child(path, "method"), $"'{health.Method}' is not a valid HTTP method");
            }
            if (!health.Path.StartsWith('/'))
            {
                errors.AddUnlessFailed(ConfigPath.Child(path, "path"), $"'{health.Path}' must start with '/'");
            }
            var expectPath = ConfigPath.Child(path, "expect_status");
            if (health.ExpectStatus.Count == 0)
            {
                errors.AddUnlessFailed(expectPath, "needs at least one status or range");
            }
            for (var i = 0; i < health.ExpectStatus.Count; i++)
            {
                var range = health.ExpectStatus[i];
                if (range.From is < 100 or > 599 || range.To is < 100 or > 599 || range.From > range.To)
                {
                    errors.AddUnlessFailed(ConfigPath.Item(expectPath, i), $"'{range}' must be a status from 100 to 599 or a range low-high within it");
                }
            }
            ValidateHealthBody(path, health, errors);
            ValidateHealthHeaders(path, health, errors);
        }
        else
        {
            foreach (var (key, set) in new[]
            {
                ("expect_body", health.ExpectBody is not null),
                ("expect_body_regex", health.ExpectBodyRegex is not null),
                ("expect_body_absent", health.ExpectBodyAbsent),
                ("headers", health.Headers.Count > 0),
            })
            {
                if (set)
                {
                    errors.AddUnlessFailed(ConfigPath.Child(path, key), "applies to http checks only; a tcp check sends no request");
                }
            }
        }
        CheckPositive(ConfigPath.Child(path, "interval"), health.Interval, errors);
        if (health.FastInterval is { } fast)
        {
            CheckPositive(ConfigPath.Child(path, "fast_interval"), fast, errors);
        }
        if (health.DownInterval is { } down)
        {
            CheckPositive(ConfigPath.Child(path, "down_interval"), down, errors);
        }
        CheckPositive(ConfigPath.Child(path, "timeout"), health.Timeout, errors);
        CheckAtLeast(ConfigPath.Child(path, "rise"), health.Rise, 1, errors);
        CheckAtLeast(ConfigPath.Child(path, "fall"), health.Fall, 1, errors);
    }

    /// <summary>At most one of expect_body and expect_body_regex; a regex that .NET compiles; expect_body_absent only with one of them.</summary>
    private static void ValidateHealthBody(string path, HealthCheckConfig health, ConfigErrorCollector errors)
    {
        if (health.ExpectBody is { } text && text.Length == 0)
        {
            errors.AddUnlessFailed(ConfigPath.Child(path, "expect_body"), "must be some text the body contains (or leave it out)");
        }
        if (health.ExpectBody is not null && health.ExpectBodyRegex is not null)
        {
            errors.AddUnlessFailed(ConfigPath.Child(path, "expect_body_regex"), "set either expect_body or expect_body_regex, not both");
        }
        else if (health.ExpectBodyRegex is { } pattern)
        {
            var regexPath = ConfigPath.Child(path, "expect_body_regex");
            if (pattern.Length == 0)
            {
                errors.AddUnlessFailed(regexPath, "must be a regular expression (or leave it out)");
            }
            else if (HealthBodyMatch.TryCreateRegex(pattern, out var error) is null)
            {
                errors.AddUnlessFailed(regexPath, $"'{pattern}' is not a valid .NET regular expression: {error}");
            }
        }
        if (health.ExpectBodyAbsent && health.ExpectBody is null && health.ExpectBodyRegex is null)
        {
            errors.AddUnlessFailed(ConfigPath.Child(path, "expect_body_absent"), "needs expect_body or expect_body_regex: it says that text must not be in the body");
        }
    }

    /// <summary>Header names that the check request sets itself, or that would change how it is framed or carried.</summary>
    private static readonly string[] ReservedCheckHeaders = ["Connection", "Content-Length", "Transfer-Encoding", "Keep-Alive", "Upgrade", "TE", "Trailer", "Expect"];

    private static void ValidateHealthHeaders(string path, HealthCheckConfig health, ConfigErrorCollector errors)
    {
        if (health.Host is { } host && (host.Length == 0 || host.Any(char.IsControl)))
        {
            errors.AddUnlessFailed(ConfigPath.Child(path, "host"), "must be a host name, with no control characters (or leave it out)");
        }
        var headersPath = ConfigPath.Child(path, "headers");
        var seen = new HashSet<string>(StringComparer.OrdinalIgnoreCase);
        foreach (var header in health.Headers)
        {
            var headerPath = ConfigPath.Child(headersPath, header.Name);
            if (!Syntax.IsToken(header.Name))
            {
                errors.AddUnlessFailed(headerPath, $"'{header.Name}' is not a valid HTTP header name (letters, digits and !#$%&'*+-.^_`|~)");
            }
            else if (!seen.Add(header.Name))
            {
                errors.AddUnlessFailed(headerPath, $"'{header.Name}' is given twice (header names are case-insensitive)");
            }
            else if (ReservedCheckHeaders.Contains(header.Name, StringComparer.OrdinalIgnoreCase) || header.Name.StartsWith("Content-", StringComparison.OrdinalIgnoreCase))
            {
                errors.AddUnlessFailed(headerPath, $"'{header.Name}' is set by the check itself and cannot be given");
            }
            else if (string.Equals(header.Name, "Host", StringComparison.OrdinalIgnoreCase) && health.Host is not null)
            {
                errors.AddUnlessFailed(headerPath, "the Host header is set twice: by host and by headers.Host; keep one");
            }
            if (header.Value.Contains('\r', StringComparison.Ordinal) || header.Value.Contains('\n', StringComparison.Ordinal) || header.Value.Contains('\0', StringComparison.Ordinal))
            {
                errors.AddUnlessFailed(headerPath, "a header value cannot contain CR, LF or NUL");
            }
        }
    }

    private static void ValidateRetry(string path, RetryConfig retry, ConfigErrorCollector errors)
    {
        if (retry.Retries is < 0 or > MaxRetries)
        {
            errors.AddUnlessFailed(ConfigPath.Child(path, "retries"), $"must be from 0 to {MaxRetries}");
        }
        var onStatusPath = ConfigPath.Child(path, "on_status");
        for (var i = 0; i < retry.OnStatus.Count; i++)
        {
            if (retry.OnStatus[i] is < 400 or > 599)
            {
                errors.AddUnlessFailed(ConfigPath.Item(onStatusPath, i), $"{retry.OnStatus[i]} is not an error status; retry on statuses from 400 to 599");
            }
        }
        if (retry.BufferBody < 0)
        {
            errors.AddUnlessFailed(ConfigPath.Child(path, "buffer_body"), "must not be negative");
        }
    }

    /// <summary>Adds the admin listener to <paramref name="listeners"/>, for the cluster listener to be checked against.</summary>
    private static void ValidateAdmin(AdminConfig admin, List<ListenEndpoint> listeners, ConfigErrorCollector errors)
    {
        const string listenPath = "admin.listen";
        if (ParseListen(listenPath, admin.Listen, errors) is { } listen)
        {
            var endpoint = new ListenEndpoint("the admin listener", listen);
            CheckNoCollision(listenPath, endpoint, listeners, errors);
            listeners.Add(endpoint);
        }

        const string tokensPath = "admin.tokens";
        var firstIndexByName = new Dictionary<string, int>(StringComparer.Ordinal);
        for (var i = 0; i < admin.Tokens.Count; i++)
        {
            var token = admin.Tokens[i];
            var tokenPath = ConfigPath.Item(tokensPath, i);
            ValidateToken(tokenPath, token, errors);
            if (token.Name.Length > 0 && !firstIndexByName.TryAdd(token.Name, i))
            {
                errors.AddUnlessFailed(ConfigPath.Child(tokenPath, "name"), $"token name '{token.Name}' is already used by tokens[{firstIndexByName[token.Name]}]");
            }
        }

        if (admin.Tls is { } tls)
        {
            const string tlsPath = "admin.tls";
            var certExists = tls.Cert.Length > 0 && CheckFileExists(ConfigPath.Child(tlsPath, "cert"), tls.Cert, errors);
            var keyExists = tls.Key.Length > 0 && CheckFileExists(ConfigPath.Child(tlsPath, "key"), tls.Key, errors);
            if (certExists && keyExists && PemFiles.CheckCertificateWithKey(tls.Cert, tls.Key) is { } problem)
            {
                errors.AddUnlessFailed(tlsPath, problem);
            }
            var caPath = ConfigPath.Child(tlsPath, "ca");
            if (tls.Ca is { Length: 0 })
            {
                errors.AddUnlessFailed(caPath, "must not be empty");
            }
            else if (tls.Ca is { } ca && CheckFileExists(caPath, ca, errors) && PemFiles.CheckAuthorities(ca) is { } caProblem)
            {
                errors.AddUnlessFailed(caPath, caProblem);
            }
            if (tls is { ClientCertificates: AdminClientCertificates.Required, Ca: null })
            {
                errors.AddUnlessFailed(ConfigPath.Child(tlsPath, "client_certificates"), "required needs ca: the CA whose certificates clients must present");
            }
        }
    }

    /// <summary>Exactly one place for the secret, and that place usable now: a node must not start (or take a
    /// change) with a token its admin API could not check.</summary>
    private static void ValidateToken(string path, AdminTokenConfig token, ConfigErrorCollector errors)
    {
        CheckName(ConfigPath.Child(path, "name"), token.Name, errors);
        var sources = new[] { ("sha256", token.Sha256), ("file", token.File), ("env", token.Env) }.Where(s => s.Item2 is not null).ToList();
        if (sources.Count != 1)
        {
            errors.AddUnlessFailed(path, sources.Count == 0
                ? "needs one of sha256, file or env, to say where the token's secret is"
                : $"has {string.Join(" and ", sources.Select(s => s.Item1))}; keep exactly one of sha256, file or env");
            return;
        }
        var sourcePath = ConfigPath.Child(path, sources[0].Item1);
        if (sources[0].Item2!.Length == 0)
        {
            errors.AddUnlessFailed(sourcePath, "must not be empty");
        }
        else if (!AdminTokenHash.TryResolve(token, out _, out var problem))
        {
            errors.AddUnlessFailed(sourcePath, problem);
        }
    }

    private static HostPort? ParseListen(string path, string text, ConfigErrorCollector errors)
    {
        if (!HostPort.TryParse(text, out var address, out var error))
        {
            errors.AddUnlessFailed(path, error);
            return null;
        }
        if (!ListenEndpoint.IsBindable(address.Value))
        {
            errors.AddUnlessFailed(path, $"'{address.Value.Host}' is not a local address; listen on an IP address, * or localhost");
            return null;
        }
        return address;
    }

    internal static void CheckNoCollision(string path, ListenEndpoint endpoint, List<ListenEndpoint> existing, ConfigErrorCollector errors)
    {
        if (existing.FirstOrDefault(endpoint.CollidesWith) is { } other)
        {
            errors.AddUnlessFailed(path, $"{endpoint.Address} collides with {other.Owner}, which listens on {other.Address}");
        }
    }

    internal static void CheckName(string path, string name, ConfigErrorCollector errors)
    {
        if (name.Length > Syntax.MaxNameLength)
        {
            // The message shows its start only: the name itself may be what is too big to log.
            errors.AddUnlessFailed(path, $"'{name[..20]}…' is {name.Length} characters long; a name has at most {Syntax.MaxNameLength}");
        }
        else if (!Syntax.IsName(name))
        {
            errors.AddUnlessFailed(path, $"'{name}' is not a valid name; {Syntax.NameRule}");
        }
    }

    private static void CheckHostPattern(string path, string host, ConfigErrorCollector errors)
    {
        if (!Syntax.IsHostPattern(host))
        {
            errors.AddUnlessFailed(path, $"'{host}' must be a host name like api.example.com or a wildcard like *.example.com");
        }
    }

    private static void CheckAtLeast(string path, int value, int minimum, ConfigErrorCollector errors)
    {
        if (value < minimum)
        {
            errors.AddUnlessFailed(path, $"must be ≥ {minimum}");
        }
    }

    internal static void CheckPositive(string path, TimeSpan value, ConfigErrorCollector errors)
    {
        if (value <= TimeSpan.Zero)
        {
            errors.AddUnlessFailed(path, "must be greater than 0");
        }
    }
}
