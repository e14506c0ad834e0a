using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;
using Switchman.Core.Configuration.Loading;
using YamlDotNet.Core;
using YamlDotNet.Core.Events;
using YamlDotNet.RepresentationModel;
using static Switchman.Core.Configuration.ConfigDefaults;

namespace Switchman.Core.Configuration.Writing;

/// <summary>
/// Writes a configuration back out in the shape <see cref="ConfigLoader"/> reads (<c>GET /api/v1/config</c>):
/// loading what it writes gives an equal record. It mirrors <c>ConfigBinder</c> field by field and leaves out values
/// that are at their defaults, so the output reads like a file an operator would write. Token secrets cannot appear:
/// the records only hold their SHA-256 or where they are read from.
/// One tree serves both forms: YAML (the loader's own format) and JSON (which the loader also reads, JSON being YAML).
/// </summary>
public static class ConfigWriter
{
    private static readonly JsonSerializerOptions IndentedJson = new() { WriteIndented = true };

    public static string ToYaml(SwitchmanConfig config)
    {
        ArgumentNullException.ThrowIfNull(config);
        using var writer = new StringWriter(CultureInfo.InvariantCulture);
        new YamlStream(new YamlDocument(ToYamlNode(ToTree(config)))).Save(writer, assignAnchors: false);
        var yaml = writer.ToString();
        // The stream ends with an explicit document end marker ("...") that nobody writes by hand.
        return yaml.EndsWith("...\n", StringComparison.Ordinal) ? yaml[..^4] : yaml;
    }

    public static string ToJson(SwitchmanConfig config)
    {
        ArgumentNullException.ThrowIfNull(config);
        return ToTree(config).ToJsonString(IndentedJson) + "\n";
    }

    /// <summary>The configuration as a tree of maps, lists and scalars, keys in the order the reference documents them.</summary>
    public static JsonObject ToTree(SwitchmanConfig config)
    {
        ArgumentNullException.ThrowIfNull(config);
        var root = new JsonObject();
        if (config.Admin != DefaultAdmin)
        {
            root["admin"] = Admin(config.Admin);
        }
        if (config.AccessLog.Path is { } accessLog)
        {
            root["access_log"] = config.AccessLog.Query ? accessLog : new JsonObject { ["path"] = accessLog, ["query"] = false };
        }
        if (config.Frontends.Count > 0)
        {
            root["frontends"] = Named(config.Frontends, f => f.Name, Frontend);
        }
        if (config.Backends.Count > 0)
        {
            root["backends"] = Named(config.Backends, b => b.Name, Backend);
        }
        if (config.Vips.Count > 0)
        {
            root["vips"] = List(config.Vips, Vip);
        }
        if (config.Services.Count > 0)
        {
            root["services"] = Named(config.Services, s => s.Name, Service);
        }
        if (config.VipInterfaces.Count > 0)
        {
            var interfaces = new JsonObject();
            foreach (var local in config.VipInterfaces)
            {
                interfaces[local.Vip] = local.Interface;
            }
            root["vip_interfaces"] = interfaces;
        }
        if (config.Cluster is { } cluster)
        {
            root["cluster"] = Cluster(cluster);
        }
        if (config.DataDir is { } dataDir)
        {
            root["data_dir"] = dataDir;
        }
        return root;
    }

    private static JsonObject Admin(AdminConfig admin)
    {
        var map = new JsonObject();
        Add(map, "listen", admin.Listen, DefaultAdmin.Listen);
        if (admin.Tokens.Count > 0)
        {
            map["tokens"] = List(admin.Tokens, token =>
            {
                var item = new JsonObject { ["name"] = token.Name, ["role"] = Enum(token.Role) };
                AddIfSet(item, "sha256", token.Sha256);
                AddIfSet(item, "file", token.File);
                AddIfSet(item, "env", token.Env);
                return item;
            });
        }
        if (admin.Tls is { } tls)
        {
            var tlsMap = new JsonObject { ["cert"] = tls.Cert, ["key"] = tls.Key };
            AddIfSet(tlsMap, "ca", tls.Ca);
            if (tls.ClientCertificates != AdminClientCertificates.None)
            {
                tlsMap["client_certificates"] = Enum(tls.ClientCertificates);
            }
            map["tls"] = tlsMap;
        }
        return map;
    }

    /// <summary>Like the admin tokens, the section holds where the shared secret is, never the secret.</summary>
    private static JsonObject Cluster(ClusterConfig cluster)
    {
        var map = new JsonObject { ["node_id"] = cluster.NodeId, ["listen"] = cluster.Listen };
        if (cluster.Peers.Count > 0)
        {
            map["peers"] = List(cluster.Peers, peer => new JsonObject { ["id"] = peer.Id, ["address"] = peer.Address });
        }
        map["data_dir"] = cluster.DataDir;
        AddIfSet(map, "secret_file", cluster.SecretFile);
        AddIfSet(map, "secret_env", cluster.SecretEnv);
        if (cluster.Tls is { } tls)
        {
            map["tls"] = new JsonObject { ["cert"] = tls.Cert, ["key"] = tls.Key, ["ca"] = tls.Ca };
        }
        if (cluster.Role != DefaultCluster.Role)
        {
            map["role"] = Enum(cluster.Role);
        }
        if (cluster.Join != DefaultCluster.Join)
        {
            map["join"] = cluster.Join;
        }
        Add(map, "election_timeout_min", cluster.ElectionTimeoutMin, DefaultCluster.ElectionTimeoutMin);
        Add(map, "election_timeout_max", cluster.ElectionTimeoutMax, DefaultCluster.ElectionTimeoutMax);
        Add(map, "request_timeout", cluster.RequestTimeout, DefaultCluster.RequestTimeout);
        Add(map, "snapshot_every", cluster.SnapshotEvery, DefaultCluster.SnapshotEvery);
        return map;
    }

    private static JsonObject Frontend(FrontendConfig frontend)
    {
        var map = new JsonObject { ["listen"] = frontend.Listen };
        if (!frontend.Protocols.Equals(DefaultFrontend.Protocols))
        {
            map["protocols"] = List(frontend.Protocols, p => JsonValue.Create(Enum(p)));
        }
        if (frontend.Tls is { } tls)
        {
            map["tls"] = new JsonObject
            {
                ["certificates"] = List(tls.Certificates, certificate =>
                {
                    var item = new JsonObject { ["cert"] = certificate.Cert, ["key"] = certificate.Key };
                    if (certificate.Hosts.Count > 0)
                    {
                        item["hosts"] = List(certificate.Hosts, h => JsonValue.Create(h));
                    }
                    return item;
                }),
            };
        }
        if (frontend.Timeouts != DefaultFrontend.Timeouts)
        {
            var timeouts = new JsonObject();
            Add(timeouts, "client_idle", frontend.Timeouts.ClientIdle, DefaultFrontendTimeouts.ClientIdle);
            Add(timeouts, "request_headers", frontend.Timeouts.RequestHeaders, DefaultFrontendTimeouts.RequestHeaders);
            map["timeouts"] = timeouts;
        }
        if (frontend.Routes.Count > 0)
        {
            map["routes"] = List(frontend.Routes, route =>
            {
                var item = new JsonObject();
                AddIfSet(item, "host", route.Host);
                Add(item, "path", route.Path, DefaultRoute.Path);
                item["backend"] = route.Backend;
                return item;
            });
        }
        AddIfSet(map, "default_backend", frontend.DefaultBackend);
        if (frontend.ErrorPages.Count > 0)
        {
            var pages = new JsonObject();
            foreach (var page in frontend.ErrorPages)
            {
                pages[page.Status.ToString(CultureInfo.InvariantCulture)] = page.File;
            }
            map["error_pages"] = pages;
        }
        return map;
    }

    private static JsonObject Vip(VipConfig vip)
    {
        var map = new JsonObject { ["name"] = vip.Name, ["address"] = vip.Address, ["interface"] = vip.Interface };
        if (vip.Nodes.Count > 0)
        {
            map["nodes"] = List(vip.Nodes, n => JsonValue.Create(n));
        }
        if (vip.Preempt)
        {
            map["preempt"] = true;
        }
        AddIfSet(map, "pool", vip.Pool);
        return map;
    }

    private static JsonObject Service(ServiceConfig service)
    {
        var map = new JsonObject { ["command"] = List(service.Command, c => JsonValue.Create(c)) };
        if (service.Env.Count > 0)
        {
            var env = new JsonObject();
            foreach (var variable in service.Env)
            {
                env[variable.Name] = variable.Value;
            }
            map["env"] = env;
        }
        AddIfSet(map, "working_dir", service.WorkingDir);
        AddIfSet(map, "user", service.User);
        if (service.Placement != DefaultService.Placement)
        {
            map["placement"] = Enum(service.Placement);
        }
        if (service.Nodes.Count > 0)
        {
            map["nodes"] = List(service.Nodes, n => JsonValue.Create(n));
        }
        if (service.Monitor != DefaultMonitor)
        {
            var monitor = new JsonObject();
            if (service.Monitor.Type != ServiceMonitorType.Process)
            {
                monitor[Enum(service.Monitor.Type)] = service.Monitor.Target;
            }
            Add(monitor, "interval", service.Monitor.Interval, DefaultMonitor.Interval);
            Add(monitor, "timeout", service.Monitor.Timeout, DefaultMonitor.Timeout);
            map["monitor"] = monitor;
        }
        AddIfSet(map, "backend", service.Backend);
        Add(map, "server", service.Server, DefaultService.Server);
        if (service.OnFail != DefaultService.OnFail)
        {
            map["on_fail"] = Enum(service.OnFail);
        }
        Add(map, "migration_threshold", service.MigrationThreshold, DefaultService.MigrationThreshold);
        Add(map, "failure_timeout", service.FailureTimeout, DefaultService.FailureTimeout);
        Add(map, "start_timeout", service.StartTimeout, DefaultService.StartTimeout);
        Add(map, "stop_timeout", service.StopTimeout, DefaultService.StopTimeout);
        if (service.After.Count > 0)
        {
            map["after"] = List(service.After, a => JsonValue.Create(a));
        }
        AddIfSet(map, "with_vip", service.WithVip);
        return map;
    }

    private static JsonObject Backend(BackendConfig backend)
    {
        var map = new JsonObject();
        if (backend.Balance != DefaultBackend.Balance)
        {
            map["balance"] = Enum(backend.Balance);
        }
        map["servers"] = List(backend.Servers, Server);
        if (backend.Health is { } health)
        {
            map["health"] = Health(health);
        }
        if (backend.Passive is { } passive)
        {
            var item = new JsonObject();
            Add(item, "consecutive_failures", passive.ConsecutiveFailures, DefaultPassive.ConsecutiveFailures);
            Add(item, "eject_for", passive.EjectFor, DefaultPassive.EjectFor);
            map["passive"] = item;
        }
        // Lists are ValueList: compare with Equals (content), not == (reference).
        if (backend.Retry != DefaultBackend.Retry)
        {
            var retry = new JsonObject();
            Add(retry, "retries", backend.Retry.Retries, DefaultRetry.Retries);
            if (!backend.Retry.OnStatus.Equals(DefaultRetry.OnStatus))
            {
                retry["on_status"] = List(backend.Retry.OnStatus, s => JsonValue.Create(s));
            }
            if (backend.Retry.BufferBody != DefaultRetry.BufferBody)
            {
                retry["buffer_body"] = Size(backend.Retry.BufferBody);
            }
            map["retry"] = retry;
        }
        if (backend.Timeouts != DefaultBackend.Timeouts)
        {
            var timeouts = new JsonObject();
            Add(timeouts, "connect", backend.Timeouts.Connect, DefaultBackendTimeouts.Connect);
            Add(timeouts, "per_try", backend.Timeouts.PerTry, DefaultBackendTimeouts.PerTry);
            Add(timeouts, "total", backend.Timeouts.Total, DefaultBackendTimeouts.Total);
            map["timeouts"] = timeouts;
        }
        Add(map, "slow_start", backend.SlowStart, DefaultBackend.SlowStart);
        if (backend.Sticky is { } sticky)
        {
            var item = new JsonObject();
            Add(item, "cookie", sticky.Cookie, DefaultSticky.Cookie);
            map["sticky"] = item;
        }
        return map;
    }

    private static JsonObject Server(ServerConfig server)
    {
        var map = new JsonObject { ["name"] = server.Name, ["address"] = server.Address };
        Add(map, "weight", server.Weight, DefaultServer.Weight);
        if (server.Backup != DefaultServer.Backup)
        {
            map["backup"] = server.Backup;
        }
        if (server.State != DefaultServer.State)
        {
            map["state"] = Enum(server.State);
        }
        return map;
    }

    private static JsonObject Health(HealthCheckConfig health)
    {
        var map = new JsonObject();
        if (health.Type != DefaultHealth.Type)
        {
            map["type"] = Enum(health.Type);
        }
        Add(map, "method", health.Method, DefaultHealth.Method);
        Add(map, "path", health.Path, DefaultHealth.Path);
        AddIfSet(map, "host", health.Host);
        if (!health.ExpectStatus.Equals(DefaultHealth.ExpectStatus))
        {
            map["expect_status"] = List(health.ExpectStatus, r => r.From == r.To ? JsonValue.Create(r.From) : JsonValue.Create(r.ToString()));
        }
        AddIfSet(map, "expect_body", health.ExpectBody);
        AddIfSet(map, "expect_body_regex", health.ExpectBodyRegex);
        if (health.ExpectBodyAbsent != DefaultHealth.ExpectBodyAbsent)
        {
            map["expect_body_absent"] = health.ExpectBodyAbsent;
        }
        if (health.Headers.Count > 0)
        {
            var headers = new JsonObject();
            foreach (var header in health.Headers)
            {
                headers[header.Name] = header.Value;
            }
            map["headers"] = headers;
        }
        Add(map, "interval", health.Interval, DefaultHealth.Interval);
        if (health.FastInterval is { } fast)
        {
            map["fast_interval"] = Duration(fast);
        }
        if (health.DownInterval is { } down)
        {
            map["down_interval"] = Duration(down);
        }
        Add(map, "timeout", health.Timeout, DefaultHealth.Timeout);
        Add(map, "rise", health.Rise, DefaultHealth.Rise);
        Add(map, "fall", health.Fall, DefaultHealth.Fall);
        if (health.Initial != DefaultHealth.Initial)
        {
            map["initial"] = Enum(health.Initial);
        }
        return map;
    }

    private static JsonObject Named<T>(IEnumerable<T> items, Func<T, string> nameOf, Func<T, JsonObject> write)
    {
        var map = new JsonObject();
        foreach (var item in items)
        {
            map[nameOf(item)] = write(item);
        }
        return map;
    }

    private static JsonArray List<T>(IEnumerable<T> items, Func<T, JsonNode?> write) => new([.. items.Select(write)]);

    private static void Add(JsonObject map, string key, string value, string defaultValue)
    {
        if (value != defaultValue)
        {
            map[key] = value;
        }
    }

    private static void Add(JsonObject map, string key, int value, int defaultValue)
    {
        if (value != defaultValue)
        {
            map[key] = value;
        }
    }

    private static void Add(JsonObject map, string key, TimeSpan value, TimeSpan defaultValue)
    {
        if (value != defaultValue)
        {
            map[key] = Duration(value);
        }
    }

    private static void AddIfSet(JsonObject map, string key, string? value)
    {
        if (value is not null)
        {
            map[key] = value;
        }
    }

    private static string Enum<T>(T value)
        where T : struct, Enum => value.ToString().ToLowerInvariant();

    /// <summary>The duration form the loader reads: 1h2m3s400ms, largest units first; "0" for zero.</summary>
    public static string Duration(TimeSpan value)
    {
        var milliseconds = (long)value.TotalMilliseconds;
        if (milliseconds <= 0)
        {
            return "0";
        }
        var text = new System.Text.StringBuilder();
        foreach (var (unit, size) in new[] { ("h", 3_600_000L), ("m", 60_000L), ("s", 1_000L), ("ms", 1L) })
        {
            if (milliseconds >= size)
            {
                text.Append((milliseconds / size).ToString(CultureInfo.InvariantCulture)).Append(unit);
                milliseconds %= size;
            }
        }
        return text.ToString();
    }

    /// <summary>Bytes with the largest binary suffix that divides them exactly (64KiB), else plain bytes.</summary>
    private static JsonNode Size(long bytes)
    {
        foreach (var (suffix, size) in new[] { ("GiB", 1L << 30), ("MiB", 1L << 20), ("KiB", 1L << 10) })
        {
            if (bytes > 0 && bytes % size == 0)
            {
                return (bytes / size).ToString(CultureInfo.InvariantCulture) + suffix;
            }
        }
        return bytes;
    }

    private static YamlNode ToYamlNode(JsonNode? node) => node switch
    {
        JsonObject map => new YamlMappingNode(map.Select(p => new KeyValuePair<YamlNode, YamlNode>(Scalar(p.Key), ToYamlNode(p.Value))))
        {
            // An empty map is how a section is turned on with its defaults (passive: {}); block style cannot write it.
            Style = map.Count == 0 ? MappingStyle.Flow : MappingStyle.Block,
        },
        JsonArray list => new YamlSequenceNode(list.Select(ToYamlNode))
        {
            // Lists of plain values read best on one line: protocols: [http1, http2].
            Style = list.All(i => i is JsonValue) ? SequenceStyle.Flow : SequenceStyle.Block,
        },
        JsonValue value when value.TryGetValue<string>(out var text) => Scalar(text),
        JsonValue value => new YamlScalarNode(value.ToJsonString()) { Style = ScalarStyle.Plain },
        _ => Scalar(""),
    };

    private static YamlScalarNode Scalar(string text) => new(text)
    {
        // Text the loader would read as "not written" must be quoted; for anything else the emitter quotes what needs it.
        Style = text is "" or "~" || text.Equals("null", StringComparison.OrdinalIgnoreCase) ? ScalarStyle.DoubleQuoted : ScalarStyle.Any,
    };
}
