using Microsoft.Extensions.Logging;
using Switchman.Core.Configuration;
using Switchman.Core.Configuration.Loading;
using Switchman.Core.Configuration.Validation;
using Switchman.Proxy;

namespace Switchman.Admin.Control;

/// <summary>
/// The configuration a node runs, with its revision: alone, 1 at start and +1 for every accepted change; in a cluster,
/// the log index of the entry that set it (0 until the first replicated configuration is applied).
/// </summary>
public sealed record ConfigRevision(long Revision, SwitchmanConfig Config, string Author, DateTimeOffset AppliedAt);

/// <summary>What became of a proposed configuration.</summary>
public abstract record ApplyOutcome
{
    private ApplyOutcome()
    {
    }

    /// <summary>Accepted and running (or, for a dry run, would be accepted).</summary>
    public sealed record Applied(ConfigRevision Current, ConfigDiff Diff, bool DryRun) : ApplyOutcome;

    /// <summary>The caller based its change on <paramref name="ExpectedRevision"/>, but the node is at another.</summary>
    public sealed record Conflict(long ExpectedRevision, long CurrentRevision) : ApplyOutcome;

    /// <summary>Refused; every error is listed and nothing changed.</summary>
    public sealed record Invalid(IReadOnlyList<ConfigError> Errors) : ApplyOutcome;
}

/// <summary>
/// The single writer of a node's configuration: validates a proposal completely before anything changes, checks the
/// revision it was based on (optimistic concurrency), applies it to the data plane as a diff, and publishes what
/// happened. One change at a time.
/// In a cluster the same validation runs here, before proposing; an accepted change then goes through the replicated
/// log (<see cref="IConfigReplication"/>), and every node, this one included, applies it when it is committed
/// (<see cref="ApplyCommittedAsync"/>).
/// </summary>
public sealed class ConfigStore
{
    private readonly DataPlane _dataPlane;
    private readonly NodeEvents _events;
    private readonly TimeProvider _time;
    private readonly ILogger _logger;
    private readonly IConfigReplication? _replication;
    private readonly SemaphoreSlim _writeLock = new(1, 1);
    private volatile ConfigRevision _current;

    /// <param name="replication">The cluster's replicated log; null when the node runs alone.</param>
    public ConfigStore(
        SwitchmanConfig initial, string? sourceFile, DataPlane dataPlane, NodeEvents events, TimeProvider time, ILogger<ConfigStore> logger,
        IConfigReplication? replication = null)
    {
        _dataPlane = dataPlane;
        _events = events;
        _time = time;
        _logger = logger;
        _replication = replication;
        SourceFile = sourceFile;
        _current = new ConfigRevision(replication is null ? 1 : 0, initial, "startup", time.GetUtcNow());
    }

    /// <summary>The cluster's replicated log that changes go through; null when the node runs alone.</summary>
    public IConfigReplication? Replication => _replication;

    public ConfigRevision Current => _current;

    /// <summary>The file the node was started with, which a reload reads again; null when started from code.</summary>
    public string? SourceFile { get; }

    /// <summary>Applies YAML text (as sent to <c>PUT /api/v1/config</c>); errors carry line numbers in <paramref name="sourceName"/>.</summary>
    public Task<ApplyOutcome> ApplyYamlAsync(string yaml, string sourceName, long? expectedRevision, string author, bool dryRun, CancellationToken cancellationToken)
    {
        var baseDirectory = SourceFile is null ? Directory.GetCurrentDirectory() : Path.GetDirectoryName(Path.GetFullPath(SourceFile))!;
        var loaded = ConfigLoader.LoadYaml(yaml, sourceName, baseDirectory);
        return loaded.IsValid
            ? ApplyAsync(loaded.Config!, expectedRevision, author, dryRun, cancellationToken)
            : Task.FromResult<ApplyOutcome>(Refuse(loaded.Errors, author));
    }

    /// <summary>Reads the start-up file again and applies it (SIGHUP, <c>switchman reload</c>).</summary>
    public Task<ApplyOutcome> ReloadAsync(string author, CancellationToken cancellationToken)
    {
        if (SourceFile is null)
        {
            return Task.FromResult<ApplyOutcome>(Refuse([new ConfigError("", 0, 0, "", "this node was not started from a file, so there is nothing to reload")], author));
        }
        var loaded = ConfigLoader.LoadFile(SourceFile);
        return loaded.IsValid
            ? ApplyAsync(loaded.Config!, null, author, dryRun: false, cancellationToken)
            : Task.FromResult<ApplyOutcome>(Refuse(loaded.Errors, author));
    }

    /// <summary>Validates and applies a configuration built in code or from JSON.</summary>
    public async Task<ApplyOutcome> ApplyAsync(SwitchmanConfig proposed, long? expectedRevision, string author, bool dryRun, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(proposed);
        if (_replication is not null)
        {
            if (NodeLocalSections.Refuse(proposed, _current.Config) is { } localError)
            {
                return Refuse([localError], author);
            }
            proposed = NodeLocalSections.Fill(proposed, _current.Config);
        }
        var errors = ConfigValidator.Validate(proposed, "config");
        if (errors.Count > 0)
        {
            return Refuse(errors, author);
        }
        if (_replication is not null && !dryRun)
        {
            return await ProposeAsync(_replication, proposed, expectedRevision, author, cancellationToken).ConfigureAwait(false);
        }
        await _writeLock.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            var current = _current;
            if (expectedRevision is { } expected && expected != current.Revision)
            {
                return new ApplyOutcome.Conflict(expected, current.Revision);
            }
            var diff = ConfigDiff.Between(current.Config, proposed);
            if (dryRun)
            {
                return new ApplyOutcome.Applied(current, diff, DryRun: true);
            }
            if (RefuseAdminChange(current.Config.Admin, proposed.Admin) is { } adminError)
            {
                return Refuse([adminError], author);
            }
            var applyErrors = await _dataPlane.ApplyAsync(proposed, cancellationToken).ConfigureAwait(false);
            if (applyErrors.Count > 0)
            {
                return Refuse(applyErrors, author);
            }
            var next = new ConfigRevision(current.Revision + 1, proposed, author, _time.GetUtcNow());
            _current = next;
            ControlLog.ConfigApplied(_logger, next.Revision, author, diff.Summary);
            _events.Publish("config_applied", $"configuration revision {next.Revision} applied by {author}: {diff.Summary}",
                new Dictionary<string, object?> { ["revision"] = next.Revision, ["author"] = author, ["changes"] = diff.Changes });
            return new ApplyOutcome.Applied(next, diff, DryRun: false);
        }
        finally
        {
            _writeLock.Release();
        }
    }

    /// <summary>
    /// Applies a committed revision of the cluster's configuration (called in log order by the node's applier).
    /// <paramref name="shared"/> is the replicated part; this node's own <c>admin</c> and <c>cluster</c> sections are
    /// kept. A data-plane failure (a port this node cannot bind, a certificate missing here) leaves the node on its
    /// previous configuration, reported, while the cluster moves on.
    /// </summary>
    public async Task<IReadOnlyList<ConfigError>> ApplyCommittedAsync(
        long revision, SwitchmanConfig shared, string author, DateTimeOffset changedAt, bool applyToDataPlane, CancellationToken cancellationToken)
    {
        await _writeLock.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            var current = _current;
            var proposed = NodeLocalSections.Fill(shared, current.Config);
            var diff = ConfigDiff.Between(current.Config, proposed);
            if (applyToDataPlane)
            {
                var applyErrors = await _dataPlane.ApplyAsync(proposed, cancellationToken).ConfigureAwait(false);
                if (applyErrors.Count > 0)
                {
                    ControlLog.CommittedApplyFailed(_logger, revision, string.Join("; ", applyErrors));
                    _events.Publish("config_apply_failed", $"configuration revision {revision} could not be applied on this node: {applyErrors.Count} error(s); it keeps revision {current.Revision}",
                        new Dictionary<string, object?> { ["revision"] = revision, ["running"] = current.Revision, ["errors"] = applyErrors.Select(e => e.ToString()).ToList() });
                    return applyErrors;
                }
            }
            _current = new ConfigRevision(revision, proposed, author, changedAt);
            ControlLog.ConfigApplied(_logger, revision, author, diff.Summary);
            _events.Publish("config_applied", $"configuration revision {revision} applied (by {author}): {diff.Summary}",
                new Dictionary<string, object?> { ["revision"] = revision, ["author"] = author, ["changes"] = diff.Changes });
            return [];
        }
        finally
        {
            _writeLock.Release();
        }
    }

    /// <summary>
    /// Validated and based on the revision this node runs: proposed through the cluster, which accepts it only if it is
    /// still at that revision. Returns once this node has applied the committed change.
    /// </summary>
    private async Task<ApplyOutcome> ProposeAsync(
        IConfigReplication replication, SwitchmanConfig proposed, long? expectedRevision, string author, CancellationToken cancellationToken)
    {
        var current = _current;
        if (expectedRevision is { } expected && expected != current.Revision)
        {
            return new ApplyOutcome.Conflict(expected, current.Revision);
        }
        var diff = ConfigDiff.Between(current.Config, proposed);
        var result = await replication.ProposeConfigAsync(
            NodeLocalSections.Strip(proposed), current.Revision, NodeLocalSections.ServersChanged(current.Config, proposed), author, cancellationToken).ConfigureAwait(false);
        if (!result.Accepted)
        {
            // Without If-Match the caller did not ask for optimistic concurrency: the cluster moved meanwhile (another
            // node's change), so base the same change on the new revision, once.
            return expectedRevision is null && result.Revision != current.Revision && _current.Revision == result.Revision
                ? await ProposeAsync(replication, proposed, result.Revision, author, cancellationToken).ConfigureAwait(false)
                : new ApplyOutcome.Conflict(expectedRevision ?? current.Revision, result.Revision);
        }
        var applied = _current;
        return applied.Revision >= result.Revision
            ? new ApplyOutcome.Applied(applied, diff, DryRun: false)
            : Refuse([new ConfigError("", 0, 0, "", $"revision {result.Revision} was committed by the cluster but could not be applied on this node; see its events")], author);
    }

    /// <summary>
    /// Admin settings that a running node cannot take: the admin listener carries the very request that changes it, so
    /// moving it or changing its TLS is a restart; and a change that leaves no admin token would lock every operator out.
    /// </summary>
    private static ConfigError? RefuseAdminChange(AdminConfig current, AdminConfig proposed)
    {
        if (proposed.Listen != current.Listen)
        {
            return new ConfigError("", 0, 0, "admin.listen", "the admin listener cannot move while the node runs; restart the node to change it");
        }
        if (proposed.Tls != current.Tls)
        {
            return new ConfigError("", 0, 0, "admin.tls", "the admin listener's TLS cannot change while the node runs; restart the node to change it");
        }
        if (current.Tokens.Any(t => t.Role == AdminRole.Admin) && !proposed.Tokens.Any(t => t.Role == AdminRole.Admin))
        {
            return new ConfigError("", 0, 0, "admin.tokens", "the change would leave no admin token, locking every operator out; keep at least one token with role admin");
        }
        return null;
    }

    private ApplyOutcome.Invalid Refuse(IReadOnlyList<ConfigError> errors, string author)
    {
        ControlLog.ConfigRefused(_logger, author, errors.Count, string.Join("; ", errors));
        _events.Publish("config_refused", $"configuration from {author} refused: {errors.Count} error(s)",
            new Dictionary<string, object?> { ["author"] = author, ["errors"] = errors.Select(e => e.ToString()).ToList() });
        return new ApplyOutcome.Invalid(errors);
    }
}

internal static partial class ControlLog
{
    [LoggerMessage(EventId = 2001, Level = LogLevel.Information, Message = "Configuration revision {Revision} applied by {Author}: {Summary}")]
    public static partial void ConfigApplied(ILogger logger, long revision, string author, string summary);

    [LoggerMessage(EventId = 2003, Level = LogLevel.Error, Message = "Committed configuration revision {Revision} could not be applied on this node: {Errors}")]
    public static partial void CommittedApplyFailed(ILogger logger, long revision, string errors);

    [LoggerMessage(EventId = 2002, Level = LogLevel.Warning, Message = "Configuration from {Author} refused with {Count} error(s): {Errors}")]
    public static partial void ConfigRefused(ILogger logger, string author, int count, string errors);
}
