using Microsoft.Extensions.Logging;
using Switchman.Core.Changes;
using Switchman.Core.Configuration;
using Switchman.Core.Configuration.Validation;

namespace Switchman.Admin.Control;

/// <summary>
/// What a node runs from the moment it starts. A node alone runs its change log: its file is the log's first entry,
/// unless <c>data_dir</c> already holds a log, which then wins (the file is applied by a reload, as in a cluster).
/// A cluster member runs its file until its replicated state arrives.
/// </summary>
public sealed class NodeStart : IDisposable
{
    private NodeStart(SharedState state, SwitchmanConfig config, LocalLogFile? file)
    {
        State = state;
        Config = config;
        File = file;
    }

    /// <summary>The state the node starts at (empty for a cluster member).</summary>
    public SharedState State { get; }

    /// <summary>The configuration it runs: the state's shared part with the file's node-local sections.</summary>
    public SwitchmanConfig Config { get; }

    /// <summary>The on-disk log of a node alone with <c>data_dir</c>; null otherwise.</summary>
    public LocalLogFile? File { get; }

    /// <exception cref="InvalidOperationException">The saved log cannot run with this file's node-local sections.</exception>
    /// <exception cref="InvalidDataException">The saved log cannot be read.</exception>
    public static NodeStart Recover(SwitchmanConfig fileConfig, TimeProvider time, ILogger logger)
    {
        ArgumentNullException.ThrowIfNull(fileConfig);
        if (fileConfig.Cluster is not null)
        {
            return new NodeStart(SharedState.Empty, fileConfig, null);
        }
        var seed = new ApplyConfigCommand
        {
            ChangeId = "startup", Author = "startup", ProposedAt = time.GetUtcNow(), Config = NodeLocalSections.Strip(fileConfig), ExpectedRevision = 0,
        };
        if (fileConfig.DataDir is not { } dataDir)
        {
            return new NodeStart(SharedState.Empty.Apply(seed, index: 1), fileConfig, null);
        }
        var file = LocalLogFile.Open(dataDir, logger);
        try
        {
            var recovered = file.Recovered;
            if (recovered.Config is null)
            {
                file.Append(recovered.AppliedIndex + 1, seed);
                return new NodeStart(recovered.Apply(seed, recovered.AppliedIndex + 1), fileConfig, file);
            }
            var running = NodeLocalSections.Fill(recovered.Config, fileConfig);
            if (ConfigValidator.Validate(running, $"{dataDir} (revision {recovered.Revision})") is { Count: > 0 } errors)
            {
                throw new InvalidOperationException(
                    $"the configuration saved in {dataDir} (revision {recovered.Revision}) cannot run with this file's admin section: {string.Join("; ", errors)}");
            }
            var differences = ConfigDiff.Between(running, fileConfig);
            if (!differences.IsEmpty)
            {
                LocalLogLog.FileDiffersFromLog(logger, differences.Summary);
            }
            return new NodeStart(recovered, running, file);
        }
        catch
        {
            file.Dispose();
            throw;
        }
    }

    public void Dispose() => File?.Dispose();
}
