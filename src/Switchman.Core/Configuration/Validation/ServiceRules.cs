namespace Switchman.Core.Configuration.Validation;

/// <summary>
/// The rules of the <c>services:</c> section that hold on every node: well-formed commands and monitors, known
/// placeholders, references to backends, services and VIPs that exist, no cycle in <c>after</c>. Whether a command's
/// program exists is a question for each node (<see cref="ServiceHostChecks"/>): a node missing it reports a failed
/// instance, and does not refuse the whole configuration.
/// </summary>
internal static class ServiceRules
{
    public static void Validate(SwitchmanConfig config, ConfigErrorCollector errors)
    {
        foreach (var service in config.Services)
        {
            ValidateService(service, config, errors);
        }
        CheckNoCycle(config.Services, errors);
    }

    private static void ValidateService(ServiceConfig service, SwitchmanConfig config, ConfigErrorCollector errors)
    {
        var path = ConfigPath.Child("services", service.Name);
        ConfigValidator.CheckName(path, service.Name, errors);
        var commandPath = ConfigPath.Child(path, "command");
        if (service.Command.Count == 0 || service.Command[0].Length == 0)
        {
            errors.AddUnlessFailed(commandPath, "needs the program to run, then its arguments: [\"/usr/bin/program\", \"--port\", \"5001\"]");
        }
        else if (service.Command.Count == 1 && service.Command[0].Contains(' ', StringComparison.Ordinal) && !File.Exists(service.Command[0]))
        {
            errors.AddUnlessFailed(commandPath, $"'{service.Command[0]}' is one program name with spaces in it; write the program and each argument as list items (no shell runs it)");
        }
        for (var i = 0; i < service.Command.Count; i++)
        {
            CheckPlaceholders(ConfigPath.Item(commandPath, i), service.Command[i], service, errors);
        }
        foreach (var variable in service.Env)
        {
            var envPath = ConfigPath.Child(ConfigPath.Child(path, "env"), variable.Name);
            if (variable.Name.Length == 0 || variable.Name.Contains('=', StringComparison.Ordinal) || variable.Name.Contains('\0', StringComparison.Ordinal))
            {
                errors.AddUnlessFailed(envPath, $"'{variable.Name}' is not an environment variable name");
            }
            CheckPlaceholders(envPath, variable.Value, service, errors);
        }
        if (service.WorkingDir is { Length: 0 })
        {
            errors.AddUnlessFailed(ConfigPath.Child(path, "working_dir"), "must be a directory path (or leave it out)");
        }
        if (service.User is { Length: 0 })
        {
            errors.AddUnlessFailed(ConfigPath.Child(path, "user"), "must be a user name (or leave it out to run as Switchman's user)");
        }
        CheckNodes(ConfigPath.Child(path, "nodes"), service.Nodes, errors);
        ValidateMonitor(ConfigPath.Child(path, "monitor"), service, errors);
        ValidateServer(path, service, config, errors);
        if (service.OnFail == ServiceOnFail.Move && service.Placement == ServicePlacement.Clone)
        {
            errors.AddUnlessFailed(ConfigPath.Child(path, "on_fail"), "'move' is for singletons: a clone already runs on every node it may (use restart or stop)");
        }
        if (service.MigrationThreshold < 1)
        {
            errors.AddUnlessFailed(ConfigPath.Child(path, "migration_threshold"), "must be ≥ 1");
        }
        if (service.FailureTimeout < TimeSpan.Zero)
        {
            errors.AddUnlessFailed(ConfigPath.Child(path, "failure_timeout"), "must be 0 (failures count until cleanup) or more");
        }
        ConfigValidator.CheckPositive(ConfigPath.Child(path, "start_timeout"), service.StartTimeout, errors);
        ConfigValidator.CheckPositive(ConfigPath.Child(path, "stop_timeout"), service.StopTimeout, errors);
        var afterPath = ConfigPath.Child(path, "after");
        for (var i = 0; i < service.After.Count; i++)
        {
            var other = service.After[i];
            if (other == service.Name)
            {
                errors.AddUnlessFailed(ConfigPath.Item(afterPath, i), "a service cannot start after itself");
            }
            else if (config.FindService(other) is null)
            {
                errors.AddUnlessFailed(ConfigPath.Item(afterPath, i), $"service '{other}' does not exist; {Known("services", config.Services.Select(s => s.Name))}");
            }
        }
        if (service.Placement == ServicePlacement.Singleton && service.WithVip is null)
        {
            errors.AddUnlessFailed(ConfigPath.Child(path, "with_vip"),
                "a singleton runs where a VIP is (it moves with it, under the same lease): name the VIP with with_vip");
        }
        if (service.WithVip is { } vip)
        {
            var vipPath = ConfigPath.Child(path, "with_vip");
            if (service.Placement != ServicePlacement.Singleton)
            {
                errors.AddUnlessFailed(vipPath, "only a singleton runs with a VIP (a clone runs on every node anyway)");
            }
            else if (config.Vips.All(v => v.Name != vip))
            {
                errors.AddUnlessFailed(vipPath, $"VIP '{vip}' does not exist; {Known("VIPs", config.Vips.Select(v => v.Name))}");
            }
            else if (service.Nodes.Count > 0)
            {
                errors.AddUnlessFailed(ConfigPath.Child(path, "nodes"), "a singleton with a VIP runs where the VIP is: set the nodes on the VIP instead");
            }
        }
    }

    private static void ValidateMonitor(string path, ServiceConfig service, ConfigErrorCollector errors)
    {
        var monitor = service.Monitor;
        ConfigValidator.CheckPositive(ConfigPath.Child(path, "interval"), monitor.Interval, errors);
        ConfigValidator.CheckPositive(ConfigPath.Child(path, "timeout"), monitor.Timeout, errors);
        if (monitor.Target is not { } target)
        {
            return;
        }
        var targetPath = ConfigPath.Child(path, monitor.Type == ServiceMonitorType.Http ? "http" : "tcp");
        if (!CheckPlaceholders(targetPath, target, service, errors))
        {
            return;
        }
        // Checked with the placeholders filled by stand-ins of the right shape: a port placeholder must still give a URL.
        var sample = new ServicePlaceholders("node1", new HostPort("127.0.0.1", 8080), "/usr/bin/switchman").Fill(target);
        if (monitor.Type == ServiceMonitorType.Http)
        {
            if (!Uri.TryCreate(sample, UriKind.Absolute, out var url) || url.Scheme is not ("http" or "https") || url.Host.Length == 0)
            {
                errors.AddUnlessFailed(targetPath, $"'{target}' is not an http:// or https:// URL, such as http://127.0.0.1:5001/v3");
            }
        }
        else if (!HostPort.TryParse(sample, out var address, out var problem))
        {
            errors.AddUnlessFailed(targetPath, $"'{target}' {problem}");
        }
        else if (address.Value.Host == "*")
        {
            errors.AddUnlessFailed(targetPath, $"'{target}' needs a host to connect to, not '*'");
        }
    }

    private static void ValidateServer(string path, ServiceConfig service, SwitchmanConfig config, ConfigErrorCollector errors)
    {
        if (service.Backend is not { } backendName)
        {
            return;
        }
        var backendPath = ConfigPath.Child(path, "backend");
        if (config.FindBackend(backendName) is not { } backend)
        {
            errors.AddUnlessFailed(backendPath, $"backend '{backendName}' does not exist; {Known("backends", config.Backends.Select(b => b.Name))}");
            return;
        }
        var serverPath = ConfigPath.Child(path, "server");
        if (ServicePlaceholders.Used(service.Server).FirstOrDefault(p => p != "node") is { } other)
        {
            errors.AddUnlessFailed(serverPath, $"only {{node}} may be used in a server name, not {{{other}}}");
            return;
        }
    }

    /// <summary>False when the text uses a placeholder that does not exist or cannot be filled for this service.</summary>
    private static bool CheckPlaceholders(string path, string text, ServiceConfig service, ConfigErrorCollector errors)
    {
        foreach (var name in ServicePlaceholders.Used(text))
        {
            if (!ServicePlaceholders.Names.Contains(name))
            {
                errors.AddUnlessFailed(path, $"unknown placeholder {{{name}}}; known: {string.Join(", ", ServicePlaceholders.Names.Select(n => $"{{{n}}}"))}");
                return false;
            }
            if (service.Backend is null && ServicePlaceholders.ServerNames.Contains(name))
            {
                errors.AddUnlessFailed(path, $"{{{name}}} needs the service's server: set 'backend' (and 'server' if it is not named after the node)");
                return false;
            }
        }
        return true;
    }

    private static void CheckNodes(string path, IReadOnlyList<string> nodes, ConfigErrorCollector errors)
    {
        var seen = new HashSet<string>(StringComparer.Ordinal);
        for (var i = 0; i < nodes.Count; i++)
        {
            ConfigValidator.CheckName(ConfigPath.Item(path, i), nodes[i], errors);
            if (!seen.Add(nodes[i]))
            {
                errors.AddUnlessFailed(ConfigPath.Item(path, i), $"node '{nodes[i]}' is listed twice");
            }
        }
    }

    /// <summary>Reports each service that is part of a cycle of <c>after</c> references (they could never start).</summary>
    private static void CheckNoCycle(IReadOnlyList<ServiceConfig> services, ConfigErrorCollector errors)
    {
        var byName = services.GroupBy(s => s.Name, StringComparer.Ordinal).ToDictionary(g => g.Key, g => g.First(), StringComparer.Ordinal);
        foreach (var service in services)
        {
            if (ReachesItself(service.Name, byName) is { } cycle)
            {
                errors.AddUnlessFailed(ConfigPath.Child(ConfigPath.Child("services", service.Name), "after"),
                    $"the services start after each other in a cycle ({string.Join(" → ", cycle)}), so none of them could start");
            }
        }
    }

    private static List<string>? ReachesItself(string start, Dictionary<string, ServiceConfig> byName)
    {
        var path = new List<string> { start };
        return Walk(start);

        List<string>? Walk(string name)
        {
            foreach (var next in byName.TryGetValue(name, out var service) ? service.After : ValueList<string>.Empty)
            {
                if (next == start)
                {
                    return [.. path, next];
                }
                if (path.Contains(next) || !byName.ContainsKey(next))
                {
                    continue;
                }
                path.Add(next);
                if (Walk(next) is { } found)
                {
                    return found;
                }
                path.RemoveAt(path.Count - 1);
            }
            return null;
        }
    }

    private static string Known(string what, IEnumerable<string> names)
    {
        var list = names.ToList();
        return list.Count == 0 ? $"no {what} are defined" : $"defined {what}: {string.Join(", ", list)}";
    }
}
