using System.Threading.Channels;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Switchman.Admin.Control;
using Switchman.Cluster;
using Switchman.Cluster.Replication;
using Switchman.Core.Configuration;
using Switchman.Core.Configuration.Loading;
using Switchman.Proxy;

namespace Switchman.Admin.Cluster;

/// <summary>
/// Makes this node run what the cluster committed: follows the replicated state and applies each new configuration
/// revision (through the <see cref="ConfigStore"/>) and the runtime overrides (to the data plane). Coalesces: after a
/// burst of commits it applies only the latest state. A witness keeps the configuration but starts no data plane work.
/// </summary>
public sealed class ClusterApplier : BackgroundService
{
    private readonly ClusterNode _node;
    private readonly ConfigStore _store;
    private readonly DataPlane _dataPlane;
    private readonly NodeEvents _events;
    private readonly ILogger _logger;
    private readonly bool _servesTraffic;
    private readonly Channel<bool> _changed = Channel.CreateBounded<bool>(new BoundedChannelOptions(1) { FullMode = BoundedChannelFullMode.DropWrite });
    private readonly AppliedProgress _progress;
    private long _attemptedRevision;
    private long _appliedOverridesIndex = -1;
    private IReadOnlyDictionary<string, ServerOverride> _appliedOverrides = new Dictionary<string, ServerOverride>();

    public ClusterApplier(ClusterNode node, ConfigStore store, DataPlane dataPlane, NodeEvents events, AppliedProgress progress, ILogger<ClusterApplier> logger)
    {
        _progress = progress;
        _node = node;
        _store = store;
        _dataPlane = dataPlane;
        _events = events;
        _logger = logger;
        _servesTraffic = node.Role != ClusterRole.Witness;
        node.StateApplied += _ => _changed.Writer.TryWrite(true);
    }

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        _changed.Writer.TryWrite(true);
        try
        {
            while (await _changed.Reader.WaitToReadAsync(stoppingToken).ConfigureAwait(false))
            {
                _changed.Reader.TryRead(out _);
                await ApplyAsync(_node.State, stoppingToken).ConfigureAwait(false);
            }
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
        }
    }

    private async Task ApplyAsync(ReplicatedState state, CancellationToken cancellationToken)
    {
        var configApplied = false;
        if (state.ConfigYaml is { } yaml && state.Revision != _attemptedRevision && state.Revision != _store.Current.Revision)
        {
            _attemptedRevision = state.Revision;
            configApplied = await ApplyConfigAsync(state, yaml, cancellationToken).ConfigureAwait(false);
        }
        if (_servesTraffic && (configApplied || state.OverridesIndex != _appliedOverridesIndex))
        {
            ApplyOverrides(state);
        }
        _progress.Advance(state.AppliedIndex);
    }

    private async Task<bool> ApplyConfigAsync(ReplicatedState state, string yaml, CancellationToken cancellationToken)
    {
        var source = $"cluster revision {state.Revision}";
        var baseDirectory = _store.SourceFile is { } file ? Path.GetDirectoryName(Path.GetFullPath(file))! : Directory.GetCurrentDirectory();
        var loaded = ConfigLoader.LoadYaml(yaml, source, baseDirectory);
        IReadOnlyList<ConfigError> errors;
        if (!loaded.IsValid)
        {
            errors = loaded.Errors;
            _events.Publish("config_apply_failed", $"configuration revision {state.Revision} is not valid on this node: {errors.Count} error(s)",
                new Dictionary<string, object?> { ["revision"] = state.Revision, ["errors"] = errors.Select(e => e.ToString()).ToList() });
        }
        else
        {
            errors = await _store.ApplyCommittedAsync(
                state.Revision, loaded.Config!, state.Author ?? "unknown", state.ChangedAt ?? DateTimeOffset.UnixEpoch, _servesTraffic, cancellationToken).ConfigureAwait(false);
        }
        if (errors.Count > 0)
        {
            ClusterApplyLog.RevisionNotApplied(_logger, state.Revision, string.Join("; ", errors));
            return false;
        }
        return true;
    }

    private void ApplyOverrides(ReplicatedState state)
    {
        foreach (var (key, value) in state.Overrides)
        {
            if (_appliedOverrides.TryGetValue(key, out var previous) && previous == value)
            {
                continue;
            }
            var slash = key.IndexOf('/', StringComparison.Ordinal);
            var (backend, server) = (key[..slash], key[(slash + 1)..]);
            if (value.State is { } stateText && ScalarFormats.TryParseEnum<ServerAdminState>(stateText, out var adminState)
                && previous?.State != stateText && _dataPlane.TrySetServerState(backend, server, adminState))
            {
                _events.Publish("server_state_changed", $"server {backend}/{server} set to {stateText} by {value.Author} (replicated)",
                    new Dictionary<string, object?> { ["backend"] = backend, ["server"] = server, ["state"] = stateText, ["author"] = value.Author });
            }
            if (value.Weight is { } weight && previous?.Weight != weight && _dataPlane.TrySetServerWeight(backend, server, weight))
            {
                _events.Publish("server_weight_changed", $"server {backend}/{server} weight set to {weight} by {value.Author} (replicated)",
                    new Dictionary<string, object?> { ["backend"] = backend, ["server"] = server, ["weight"] = weight, ["author"] = value.Author });
            }
        }
        _appliedOverrides = state.Overrides;
        _appliedOverridesIndex = state.OverridesIndex;
    }
}

internal static partial class ClusterApplyLog
{
    [LoggerMessage(EventId = 2101, Level = LogLevel.Error, Message = "Cluster configuration revision {Revision} is not running on this node: {Errors}")]
    public static partial void RevisionNotApplied(ILogger logger, long revision, string errors);
}
