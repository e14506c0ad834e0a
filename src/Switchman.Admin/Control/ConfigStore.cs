using Microsoft.Extensions.Logging;
using Switchman.Core.Changes;
using Switchman.Core.Configuration;
using Switchman.Core.Configuration.Loading;
using Switchman.Core.Configuration.Validation;

namespace Switchman.Admin.Control;

/// <summary>
/// The configuration a node runs, with its revision: the log index of the entry that set it (a node alone starts at
/// 1, its file being the first entry; a cluster member at 0 until the first replicated configuration is applied).
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
/// The front door of every change, alone or in a cluster: checks a proposal completely against what this node would
/// run (its own sections filled in), checks the revision it was based on (optimistic concurrency), turns it into a
/// typed command and appends it to the log (<see cref="IChangeLog"/>). The log's one applier
/// (<see cref="ChangeApplier"/>) makes the data plane run it and publishes what changed.
/// </summary>
public sealed class ConfigStore
{
    private readonly IChangeLog _log;
    private readonly ChangeApplier _applier;
    private readonly NodeEvents _events;
    private readonly TimeProvider _time;
    private readonly ILogger _logger;

    public ConfigStore(IChangeLog log, ChangeApplier applier, string? sourceFile, NodeEvents events, TimeProvider time, ILogger<ConfigStore> logger)
    {
        _log = log;
        _applier = applier;
        _events = events;
        _time = time;
        _logger = logger;
        SourceFile = sourceFile;
    }

    /// <summary>The log changes go through: the node's own, or the cluster's.</summary>
    public IChangeLog Log => _log;

    public ConfigRevision Current => _applier.Current;

    /// <summary>The shared state this node runs: configuration revision and server overrides.</summary>
    public SharedState State => _applier.Applied;

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

    /// <summary>Reads the start-up file again and applies it (SIGHUP, <c>switchman reload</c>); with
    /// <paramref name="dryRun"/>, only says what it would change (<c>switchman config diff</c>).</summary>
    public Task<ApplyOutcome> ReloadAsync(string author, CancellationToken cancellationToken, bool dryRun = false)
    {
        if (SourceFile is null)
        {
            return Task.FromResult<ApplyOutcome>(Refuse([new ConfigError("", 0, 0, "", "this node was not started from a file, so there is nothing to reload")], author));
        }
        var loaded = ConfigLoader.LoadFile(SourceFile);
        return loaded.IsValid
            ? ApplyAsync(loaded.Config!, null, author, dryRun, cancellationToken)
            : Task.FromResult<ApplyOutcome>(Refuse(loaded.Errors, author));
    }

    /// <summary>
    /// Validates and applies a whole configuration. Its shared part goes through the log; its <c>admin</c> section, if
    /// it has one, is this node's alone and changes here only (within what a running node can take).
    /// </summary>
    public async Task<ApplyOutcome> ApplyAsync(SwitchmanConfig proposed, long? expectedRevision, string author, bool dryRun, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(proposed);
        var current = Current;
        if (NodeLocalSections.RefuseStartupOnlyChange(proposed, current.Config) is { } startupOnly)
        {
            return Refuse([startupOnly], author);
        }
        var filled = NodeLocalSections.Fill(proposed, current.Config);
        // The node a change is sent to also checks what only it can: its services' programs, directories and users.
        var errors = ConfigValidator.Validate(filled, "config") is { Count: > 0 } invalid ? invalid : ServiceHostChecks.Check(filled, "config");
        if (errors.Count > 0)
        {
            return Refuse(errors, author);
        }
        if (expectedRevision is { } expected && expected != current.Revision)
        {
            return new ApplyOutcome.Conflict(expected, current.Revision);
        }
        var diff = ConfigDiff.Between(current.Config, filled);
        if (dryRun)
        {
            return new ApplyOutcome.Applied(current, diff, DryRun: true);
        }
        if (RefuseAdminChange(current.Config.Admin, filled.Admin) is { } adminError)
        {
            return Refuse([adminError], author);
        }
        var result = await AppendConfigAsync(NodeLocalSections.Strip(filled), current.Revision, retryOnMove: expectedRevision is null, author, cancellationToken)
            .ConfigureAwait(false);
        if (result.NotRunHere.Count > 0)
        {
            return Refuse(result.NotRunHere, author);
        }
        if (!result.Outcome.Accepted)
        {
            return new ApplyOutcome.Conflict(expectedRevision ?? current.Revision, result.Outcome.Revision);
        }
        // Always the proposal's own admin section when it had one: token files and variables are read again then.
        _applier.SetLocalAdmin(filled.Admin);
        return new ApplyOutcome.Applied(Current, diff, DryRun: false);
    }

    /// <summary>A server's admin state (ready, drain, maint) as a runtime override: no new revision.</summary>
    public Task<AppendResult> SetServerStateAsync(string backend, string server, ServerAdminState state, string author, CancellationToken cancellationToken) =>
        _log.AppendAsync(new SetServerStateCommand
        {
            ChangeId = ChangeCommand.NewChangeId(), Author = author, ProposedAt = _time.GetUtcNow(), Backend = backend, Server = server, State = state,
        }, cancellationToken);

    /// <summary>A server's weight as a runtime override: no new revision.</summary>
    public Task<AppendResult> SetServerWeightAsync(string backend, string server, int weight, string author, CancellationToken cancellationToken) =>
        _log.AppendAsync(new SetServerWeightCommand
        {
            ChangeId = ChangeCommand.NewChangeId(), Author = author, ProposedAt = _time.GetUtcNow(), Backend = backend, Server = server, Weight = weight,
        }, cancellationToken);

    /// <summary>
    /// Puts <paramref name="node"/> in standby (the leader moves its VIPs away and gives it none) or back online: a
    /// replicated fact about the node, no new revision. The caller checks that the node exists.
    /// </summary>
    public Task<AppendResult> SetNodeStandbyAsync(string node, bool standby, string author, CancellationToken cancellationToken) =>
        _log.AppendAsync(new SetNodeStandbyCommand
        {
            ChangeId = ChangeCommand.NewChangeId(), Author = author, ProposedAt = _time.GetUtcNow(), Node = node, Standby = standby,
        }, cancellationToken);

    /// <summary>Orders the instance of <paramref name="service"/> on <paramref name="node"/> restarted: a replicated order its node carries out.</summary>
    public Task<AppendResult> RestartServiceAsync(string service, string node, string author, CancellationToken cancellationToken) =>
        _log.AppendAsync(new RestartServiceCommand
        {
            ChangeId = ChangeCommand.NewChangeId(), Author = author, ProposedAt = _time.GetUtcNow(), Service = service, Node = node,
        }, cancellationToken);

    /// <summary>Stops <paramref name="service"/> on every node, or starts it again (Pacemaker's target-role): a runtime override.</summary>
    public Task<AppendResult> SetServiceTargetAsync(string service, bool started, string author, CancellationToken cancellationToken) =>
        _log.AppendAsync(new SetServiceTargetCommand
        {
            ChangeId = ChangeCommand.NewChangeId(), Author = author, ProposedAt = _time.GetUtcNow(), Service = service, Started = started,
        }, cancellationToken);

    /// <summary>Forgets the failures of <paramref name="service"/> on <paramref name="node"/> (null: every node), like <c>crm_resource --cleanup</c>.</summary>
    public Task<AppendResult> CleanupServiceAsync(string service, string? node, string author, CancellationToken cancellationToken) =>
        _log.AppendAsync(new CleanupServiceCommand
        {
            ChangeId = ChangeCommand.NewChangeId(), Author = author, ProposedAt = _time.GetUtcNow(), Service = service, Node = node,
        }, cancellationToken);

    /// <summary>Moves the singleton <paramref name="service"/> away from <paramref name="node"/> (until a cleanup), like <c>crm_resource --move</c>.</summary>
    public Task<AppendResult> MoveServiceAsync(string service, string node, string author, CancellationToken cancellationToken) =>
        _log.AppendAsync(new MoveServiceCommand
        {
            ChangeId = ChangeCommand.NewChangeId(), Author = author, ProposedAt = _time.GetUtcNow(), Service = service, Node = node,
        }, cancellationToken);

    /// <summary>Adds a server to a backend (a new revision), after checking the configuration it makes.</summary>
    public Task<ApplyOutcome> AddServerAsync(string backend, ServerConfig server, string author, CancellationToken cancellationToken) =>
        ChangeServersAsync(backend, servers => [.. servers, server], new AddServerCommand
        {
            ChangeId = ChangeCommand.NewChangeId(), Author = author, ProposedAt = _time.GetUtcNow(), Backend = backend, Server = server,
        }, dryRun: false, cancellationToken);

    /// <summary>Removes a server from its backend (a new revision); <paramref name="dryRun"/> only checks that it could.</summary>
    public Task<ApplyOutcome> RemoveServerAsync(string backend, string server, string author, bool dryRun, CancellationToken cancellationToken) =>
        ChangeServersAsync(backend, servers => [.. servers.Where(s => s.Name != server)], new RemoveServerCommand
        {
            ChangeId = ChangeCommand.NewChangeId(), Author = author, ProposedAt = _time.GetUtcNow(), Backend = backend, Server = server,
        }, dryRun, cancellationToken);

    private async Task<ApplyOutcome> ChangeServersAsync(
        string backend, Func<IReadOnlyList<ServerConfig>, ServerConfig[]> change, ChangeCommand command, bool dryRun, CancellationToken cancellationToken)
    {
        var current = Current;
        var pool = current.Config.FindBackend(backend) ?? throw new InvalidOperationException($"backend '{backend}' was checked to exist");
        var proposed = current.Config with
        {
            Backends = new ValueList<BackendConfig>(current.Config.Backends.Select(b => b.Name == backend ? b with { Servers = new ValueList<ServerConfig>(change(pool.Servers)) } : b)),
        };
        var errors = ConfigValidator.Validate(proposed, "config");
        if (errors.Count > 0)
        {
            return Refuse(errors, command.Author);
        }
        var diff = ConfigDiff.Between(current.Config, proposed);
        if (dryRun)
        {
            return new ApplyOutcome.Applied(current, diff, DryRun: true);
        }
        var result = await _log.AppendAsync(command, cancellationToken).ConfigureAwait(false);
        if (result.NotRunHere.Count > 0)
        {
            return Refuse(result.NotRunHere, command.Author);
        }
        return result.Outcome.Accepted
            ? new ApplyOutcome.Applied(Current, diff, DryRun: false)
            : Refuse([new ConfigError("", 0, 0, $"backends.{backend}.servers", result.Outcome.Refusal ?? "refused")], command.Author);
    }

    /// <summary>
    /// Appends a new shared configuration based on <paramref name="basedOn"/>. Without If-Match the caller did not ask
    /// for optimistic concurrency: if another change moved the state meanwhile (in a cluster, another node's), the
    /// same configuration is based on the new revision, once.
    /// </summary>
    private async Task<AppendResult> AppendConfigAsync(SwitchmanConfig shared, long basedOn, bool retryOnMove, string author, CancellationToken cancellationToken)
    {
        var result = await _log.AppendAsync(new ApplyConfigCommand
        {
            ChangeId = ChangeCommand.NewChangeId(), Author = author, ProposedAt = _time.GetUtcNow(), Config = shared, ExpectedRevision = basedOn,
        }, cancellationToken).ConfigureAwait(false);
        return !result.Outcome.Accepted && result.NotRunHere.Count == 0 && retryOnMove && result.Outcome.Revision != basedOn && Current.Revision == result.Outcome.Revision
            ? await AppendConfigAsync(shared, result.Outcome.Revision, retryOnMove: false, author, cancellationToken).ConfigureAwait(false)
            : result;
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
