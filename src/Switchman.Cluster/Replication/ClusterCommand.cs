using System.Text.Json;
using System.Text.Json.Serialization;

namespace Switchman.Cluster.Replication;

/// <summary>
/// One replicated change: the payload of a Raft log entry. Commands are small and self-contained, and carry
/// everything their effect depends on (author, time, the revision they were based on), so applying them is
/// deterministic on every node and again on replay after a restart.
/// </summary>
[JsonPolymorphic(TypeDiscriminatorPropertyName = "type")]
[JsonDerivedType(typeof(ApplyConfigCommand), "apply_config")]
[JsonDerivedType(typeof(SetServerStateCommand), "set_server_state")]
[JsonDerivedType(typeof(SetServerWeightCommand), "set_server_weight")]
public abstract record ClusterCommand
{
    /// <summary>Unique per change; a change proposed twice (a client retrying after an unknown outcome) applies once.</summary>
    public required string ChangeId { get; init; }

    public required string Author { get; init; }

    public required DateTimeOffset ProposedAt { get; init; }

    private static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web)
    {
        PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower,
    };

    public byte[] ToBytes() => JsonSerializer.SerializeToUtf8Bytes(this, Json);

    /// <summary>Null when the bytes are not a command this version knows (then the entry is skipped, logged by the caller).</summary>
    public static ClusterCommand? FromBytes(ReadOnlySpan<byte> bytes)
    {
        try
        {
            return JsonSerializer.Deserialize<ClusterCommand>(bytes, Json);
        }
        catch (JsonException)
        {
            return null;
        }
    }

    public static string NewChangeId() => Guid.NewGuid().ToString("N");
}

/// <summary>
/// Replace the shared configuration. Accepted only if the cluster is still at <see cref="ExpectedRevision"/>; the
/// proposer validated the YAML against that revision and listed the servers whose runtime overrides it ends.
/// </summary>
public sealed record ApplyConfigCommand : ClusterCommand
{
    public required string Yaml { get; init; }

    public required long ExpectedRevision { get; init; }

    /// <summary>"backend/server" keys whose configuration changed or which were removed: their overrides end.</summary>
    public IReadOnlyList<string> ResetOverrides { get; init; } = [];
}

/// <summary>A runtime override of one server's admin state (ready, drain, maint).</summary>
public sealed record SetServerStateCommand : ClusterCommand
{
    public required string Backend { get; init; }

    public required string Server { get; init; }

    public required string State { get; init; }
}

/// <summary>A runtime override of one server's weight.</summary>
public sealed record SetServerWeightCommand : ClusterCommand
{
    public required string Backend { get; init; }

    public required string Server { get; init; }

    public required int Weight { get; init; }
}
