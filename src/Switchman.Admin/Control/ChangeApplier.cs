using Microsoft.Extensions.Logging;
using Switchman.Core.Changes;
using Switchman.Core.Configuration;
using Switchman.Core.Configuration.Validation;
using Switchman.Proxy;

namespace Switchman.Admin.Control;

/// <summary>
/// The one place where a committed state becomes what the node runs, alone or in a cluster: it fills the shared
/// configuration with this node's own sections, validates exactly that, works out the <see cref="ChangeSet"/> once,
/// moves the data plane to the effective configuration (overrides folded in), and publishes the change set's events.
/// One state at a time.
/// </summary>
public sealed class ChangeApplier
{
    private readonly DataPlane _dataPlane;
    private readonly NodeEvents _events;
    private readonly TimeProvider _time;
    private readonly ILogger _logger;
    private readonly bool _servesTraffic;
    private readonly SemaphoreSlim _applyLock = new(1, 1);
    private volatile Running _running;
    private long _failedRevision;

    /// <param name="initial">What the data plane was started with: the node's filled configuration.</param>
    /// <param name="initialState">The state that configuration is (for a node alone, its file as the first entry; for a
    /// cluster member, nothing yet: the replicated state arrives through the log).</param>
    /// <param name="servesTraffic">False on a witness: it keeps the state but starts no data plane work.</param>
    public ChangeApplier(
        SwitchmanConfig initial, SharedState initialState, DataPlane dataPlane, NodeEvents events, TimeProvider time, ILogger<ChangeApplier> logger,
        bool servesTraffic = true)
    {
        _dataPlane = dataPlane;
        _events = events;
        _time = time;
        _logger = logger;
        _servesTraffic = servesTraffic;
        _running = new Running(initialState, new ConfigRevision(initialState.Revision, initial, initialState.Author ?? "startup", time.GetUtcNow()));
    }

    /// <summary>The configuration this node runs (shared part and its own sections) and its revision.</summary>
    public ConfigRevision Current => _running.Revision;

    /// <summary>The state this node runs (its configuration may lag the state's when a revision cannot run here).</summary>
    public SharedState Applied => _running.State;

    /// <summary>
    /// Makes the node run <paramref name="next"/>. <paramref name="committed"/>: the log has it whatever happens here (a
    /// cluster), so a failure is reported as <c>config_apply_failed</c> and the node keeps its previous configuration
    /// while still following the overrides; otherwise (a node alone, before it commits) a failure changes nothing and
    /// is returned for the caller to refuse the change.
    /// </summary>
    public async Task<IReadOnlyList<ConfigError>> ApplyAsync(SharedState next, bool committed, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(next);
        await _applyLock.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            var running = _running;
            if (next.AppliedIndex <= running.State.AppliedIndex && next.Revision == running.State.Revision)
            {
                return [];
            }
            var target = next.Config is not null && next.Revision != running.State.Revision && next.Revision != _failedRevision
                ? next
                : KeepConfiguration(next, running.State);
            var errors = await RunAsync(running, target, cancellationToken).ConfigureAwait(false);
            if (errors.Count == 0 || !committed)
            {
                return errors;
            }
            // Committed, but this node cannot run it: keep the previous configuration (with the new overrides).
            _failedRevision = next.Revision;
            ControlLog.CommittedApplyFailed(_logger, next.Revision, string.Join("; ", errors));
            _events.Publish("config_apply_failed",
                $"configuration revision {next.Revision} could not be applied on this node: {errors.Count} error(s); it keeps revision {running.Revision.Revision}",
                new Dictionary<string, object?> { ["revision"] = next.Revision, ["running"] = running.Revision.Revision, ["errors"] = errors.Select(e => e.ToString()).ToList() });
            await RunAsync(running, KeepConfiguration(next, running.State), cancellationToken).ConfigureAwait(false);
            return errors;
        }
        finally
        {
            _applyLock.Release();
        }
    }

    /// <summary>A change to this node's own admin section (a reload or a PUT on this node): it never goes through the log.</summary>
    public void SetLocalAdmin(AdminConfig admin)
    {
        var running = _running;
        _running = running with { Revision = running.Revision with { Config = running.Revision.Config with { Admin = admin } } };
    }

    private async Task<IReadOnlyList<ConfigError>> RunAsync(Running running, SharedState target, CancellationToken cancellationToken)
    {
        var configChanged = target.Revision != running.State.Revision;
        var config = configChanged ? NodeLocalSections.Fill(target.Config!, running.Revision.Config) : running.Revision.Config;
        if (configChanged)
        {
            // Validate what runs: the shared part with this node's own admin and cluster sections.
            var invalid = ConfigValidator.Validate(config, $"revision {target.Revision}");
            if (invalid.Count > 0)
            {
                return invalid;
            }
        }
        var changes = ChangeSet.Between(running.State, running.Revision.Config, target, config);
        if (_servesTraffic && target.Effective(config) is var effective && effective != _dataPlane.Config)
        {
            var errors = await _dataPlane.ApplyAsync(effective, cancellationToken).ConfigureAwait(false);
            if (errors.Count > 0)
            {
                return errors;
            }
        }
        var revision = configChanged
            ? new ConfigRevision(target.Revision, config, target.Author ?? "unknown", target.ChangedAt ?? _time.GetUtcNow())
            : running.Revision;
        _running = new Running(target, revision);
        if (changes.ConfigChanged)
        {
            ControlLog.ConfigApplied(_logger, changes.Revision, changes.Author, changes.Summary);
        }
        foreach (var change in changes.Events())
        {
            _events.Publish(change.Type, change.Message, change.Data);
        }
        return [];
    }

    /// <summary><paramref name="next"/>'s overrides on the configuration that runs now (for servers it still has).</summary>
    private static SharedState KeepConfiguration(SharedState next, SharedState running) => next with
    {
        Revision = running.Revision,
        Config = running.Config,
        Author = running.Author,
        ChangedAt = running.ChangedAt,
        Overrides = next.Overrides.RemoveRange(next.Overrides.Keys.Where(key =>
        {
            var (backend, server) = SharedState.SplitKey(key);
            return SharedState.FindServer(running.Config, backend, server) is null;
        })),
    };

    private sealed record Running(SharedState State, ConfigRevision Revision);
}
