using System.Net;
using Switchman.Core.Configuration;
using Switchman.Supervisor.Monitoring;
using Switchman.Supervisor.Processes;

namespace Switchman.Supervisor;

/// <summary>
/// A service's definition as it runs on this node: the shared configuration with this node's placeholders, and where
/// its output goes. Two definitions that run the same process (<see cref="RunsTheSameAs"/>) need no restart between
/// them; a change of monitor, thresholds or timeouts applies to the running instance.
/// </summary>
public sealed record InstanceDefinition(ServiceConfig Config, ServicePlaceholders Placeholders, string LogDirectory)
{
    /// <summary>The process to start: argv, environment and working directory filled in, output to the service's log file.</summary>
    public ProcessSpec Spec => new(
        Config.Name,
        [.. Config.Command.Select(Placeholders.Fill)],
        Config.Env.ToDictionary(v => v.Name, v => Placeholders.Fill(v.Value), StringComparer.Ordinal),
        Config.WorkingDir,
        Config.User,
        LogFile);

    /// <summary>The file the instance's standard output and error are appended to (<c>switchman service logs</c> reads it).</summary>
    public string LogFile => Path.Combine(LogDirectory, Config.Name + ".log");

    /// <summary>Whether the process itself would be started the same: the shared settings, this node's placeholders, its log.</summary>
    public bool RunsTheSameAs(InstanceDefinition other) =>
        other is not null
        && Config.ProcessSettingsChangedIn(other.Config).Count == 0
        && Placeholders == other.Placeholders
        && LogDirectory == other.LogDirectory;

    /// <summary>The HTTP or TCP check of its monitor; null when the process being alive is the whole check.</summary>
    public IServiceMonitor? CreateMonitor(TimeProvider time)
    {
        var monitor = Config.Monitor;
        if (monitor.Target is not { } target)
        {
            return null;
        }
        var filled = Placeholders.Fill(target);
        if (monitor.Type == ServiceMonitorType.Http)
        {
            return new HttpMonitor(new Uri(filled), monitor.Timeout, time);
        }
        HostPort.TryParse(filled, out var address, out _);
        return new TcpMonitor(address?.Host ?? IPAddress.Loopback.ToString(), address?.Port ?? 0, monitor.Timeout, time);
    }
}
