using System.Text;
using Switchman.Core.Configuration;

namespace Switchman.Cluster;

/// <summary>Everything a <see cref="ClusterNode"/> needs: the node's <c>cluster:</c> section, its secret, and how peers reach its admin API.</summary>
public sealed record ClusterNodeOptions
{
    public required ClusterConfig Config { get; init; }

    public required ReadOnlyMemory<byte> Secret { get; init; }

    /// <summary>The admin API's URL as other nodes should use it (forwarded writes, status fan-out).</summary>
    public required string AdminUrl { get; init; }

    /// <summary>How long start-up waits for the local log to be re-applied before the node serves.</summary>
    public TimeSpan ReplayTimeout { get; init; } = TimeSpan.FromSeconds(30);

    /// <summary>How long a proposal may wait for its commit before its outcome is reported unknown.</summary>
    public TimeSpan CommitTimeout { get; init; } = TimeSpan.FromSeconds(5);
}

/// <summary>Reads the shared secret named by <c>cluster.secret_file</c> or <c>cluster.secret_env</c>.</summary>
public static class ClusterSecret
{
    public const int MinimumLength = 16;

    public static byte[] Load(ClusterConfig config)
    {
        ArgumentNullException.ThrowIfNull(config);
        string? text;
        string source;
        if (config.SecretFile is { } file)
        {
            source = $"cluster.secret_file ({file})";
            text = File.Exists(file) ? File.ReadAllText(file) : throw new InvalidOperationException($"{source} does not exist");
        }
        else if (config.SecretEnv is { } env)
        {
            source = $"cluster.secret_env ({env})";
            text = Environment.GetEnvironmentVariable(env) ?? throw new InvalidOperationException($"{source} is not set");
        }
        else
        {
            throw new InvalidOperationException("cluster traffic needs a shared secret: set cluster.secret_file or cluster.secret_env");
        }
        var secret = Encoding.UTF8.GetBytes(text.Trim());
        return secret.Length >= MinimumLength
            ? secret
            : throw new InvalidOperationException($"{source} holds {secret.Length} bytes; the cluster secret needs at least {MinimumLength}");
    }
}
