using System.Text.Json;
using System.Text.Json.Serialization;
using Switchman.Core.Configuration;

namespace Switchman.Core.Changes;

/// <summary>
/// One change to a node's shared state: the payload of a log entry, in the one-member log of a node alone and in the
/// Raft log of a cluster alike. Commands are small and self-contained and carry everything their effect depends on
/// (author, time, the revision they were based on), so <see cref="SharedState.Apply"/> gives the same state on every
/// node and again on replay after a restart.
/// </summary>
[JsonPolymorphic(TypeDiscriminatorPropertyName = "type")]
[JsonDerivedType(typeof(ApplyConfigCommand), "apply_config")]
[JsonDerivedType(typeof(SetServerStateCommand), "set_server_state")]
[JsonDerivedType(typeof(SetServerWeightCommand), "set_server_weight")]
[JsonDerivedType(typeof(AddServerCommand), "add_server")]
[JsonDerivedType(typeof(RemoveServerCommand), "remove_server")]
[JsonDerivedType(typeof(AssignVipCommand), "assign_vip")]
[JsonDerivedType(typeof(SetNodeStandbyCommand), "set_node_standby")]
[JsonDerivedType(typeof(ReportVipReadinessCommand), "report_vip_readiness")]
[JsonDerivedType(typeof(SetServiceTargetCommand), "set_service_target")]
[JsonDerivedType(typeof(RestartServiceCommand), "restart_service")]
[JsonDerivedType(typeof(CleanupServiceCommand), "cleanup_service")]
[JsonDerivedType(typeof(MoveServiceCommand), "move_service")]
[JsonDerivedType(typeof(ReportServiceInstancesCommand), "report_service_instances")]
public abstract record ChangeCommand
{
    /// <summary>Unique per change; a change proposed twice (a client retrying after an unknown outcome) applies once.</summary>
    public required string ChangeId { get; init; }

    public required string Author { get; init; }

    public required DateTimeOffset ProposedAt { get; init; }

    public byte[] ToBytes() => JsonSerializer.SerializeToUtf8Bytes(this, ChangeJson.Command);

    /// <summary>Null when the bytes are not a command this version can read (then the entry is skipped, logged by the caller).</summary>
    public static ChangeCommand? FromBytes(ReadOnlySpan<byte> bytes)
    {
        try
        {
            return JsonSerializer.Deserialize(bytes, ChangeJson.Command);
        }
        catch (JsonException)
        {
            return null;
        }
    }

    public static string NewChangeId() => Guid.NewGuid().ToString("N");
}

/// <summary>
/// Replace the shared configuration (everything but the node-local <c>admin</c> and <c>cluster</c> sections). Accepted
/// only if the state is still at <see cref="ExpectedRevision"/>, the revision the proposer validated it against.
/// </summary>
public sealed record ApplyConfigCommand : ChangeCommand
{
    /// <summary>Written to the log as YAML (<c>"yaml"</c>), the form an operator reads.</summary>
    [JsonPropertyName("yaml")]
    public required SwitchmanConfig Config { get; init; }

    public required long ExpectedRevision { get; init; }
}

/// <summary>A runtime override of one server's admin state (ready, drain, maint): no new revision.</summary>
public sealed record SetServerStateCommand : ChangeCommand
{
    public required string Backend { get; init; }

    public required string Server { get; init; }

    public required ServerAdminState State { get; init; }
}

/// <summary>A runtime override of one server's weight: no new revision.</summary>
public sealed record SetServerWeightCommand : ChangeCommand
{
    public required string Backend { get; init; }

    public required string Server { get; init; }

    public required int Weight { get; init; }
}

/// <summary>Add a server to an existing backend: a new revision. Refused if the backend is gone or has a server of that name.</summary>
public sealed record AddServerCommand : ChangeCommand
{
    public required string Backend { get; init; }

    public required ServerConfig Server { get; init; }
}

/// <summary>Remove a server from its backend: a new revision; its overrides end with it. Refused if it is not there.</summary>
public sealed record RemoveServerCommand : ChangeCommand
{
    public required string Backend { get; init; }

    public required string Server { get; init; }
}

/// <summary>
/// The leader's decision of who holds a VIP (null: nobody). <see cref="Term"/> is the leader's term, a fencing token: a
/// command from an older term than the VIP's assignment is refused. A VIP moves from a node that still answers in two
/// steps: it is first released (assigned to nobody), and given to its new holder only once the old holder let go or its
/// lease ended. From a node that is lost and whose lease the leader found ended (<see cref="ReleasedFrom"/>), it moves
/// in one.
/// </summary>
public sealed record AssignVipCommand : ChangeCommand
{
    public required string Vip { get; init; }

    public required string? Node { get; init; }

    public required long Term { get; init; }

    /// <summary>
    /// The holder the leader found had surely let go (its lease ended, and it gets no grant until it reports this
    /// command applied): the VIP may go from it straight to <see cref="Node"/>. Null: the VIP must be unheld first.
    /// </summary>
    public string? ReleasedFrom { get; init; }

    /// <summary>Why: <c>placed</c>, <c>node lost</c>, <c>lease expired</c>, <c>standby</c>, <c>unhealthy</c>, <c>preempted</c>, <c>rebalanced</c>.</summary>
    public required string Reason { get; init; }
}

/// <summary>
/// An operator puts a node in standby (it gives its VIPs away and is given none, like <c>pcs node standby</c>) or
/// back online. The node keeps serving what reaches it; only the VIPs move.
/// </summary>
public sealed record SetNodeStandbyCommand : ChangeCommand
{
    public required string Node { get; init; }

    public required bool Standby { get; init; }
}

/// <summary>
/// A node reports which VIPs it cannot serve now and why (its frontends for that VIP are not listening or have no
/// available server, or it cannot put the address on its interface): the whole list, replacing its last report. An
/// empty list means it can serve them all. Written by the node itself when its view changes.
/// </summary>
public sealed record ReportVipReadinessCommand : ChangeCommand
{
    public required string Node { get; init; }

    /// <summary>VIP name → why this node cannot serve it.</summary>
    public required IReadOnlyDictionary<string, string> Unready { get; init; }
}

/// <summary>
/// An operator stops a service everywhere or starts it again (Pacemaker's <c>target-role</c>): a runtime override that
/// outlives configuration changes that keep the service, no new revision.
/// </summary>
public sealed record SetServiceTargetCommand : ChangeCommand
{
    public required string Service { get; init; }

    public required bool Started { get; init; }
}

/// <summary>
/// Restart the instance of <see cref="Service"/> on <see cref="Node"/>: the node whose instance it is stops it (SIGTERM,
/// then SIGKILL after <c>stop_timeout</c>) and starts it again when it applies this command. A restart, not a failure:
/// the fail count is not touched.
/// </summary>
public sealed record RestartServiceCommand : ChangeCommand
{
    public required string Service { get; init; }

    public required string Node { get; init; }
}

/// <summary>
/// Forget the failures of <see cref="Service"/> on <see cref="Node"/> (null: on every node), like
/// <c>crm_resource --cleanup</c>: an instance left stopped by its failures may start again there.
/// </summary>
public sealed record CleanupServiceCommand : ChangeCommand
{
    public required string Service { get; init; }

    public string? Node { get; init; }
}

/// <summary>
/// Move a singleton away from <see cref="Node"/> (<c>crm_resource --move</c>): that node stops its instance and may not run
/// it again until a cleanup; it then cannot serve the singleton's VIP, so the VIP and the singleton go to another node.
/// </summary>
public sealed record MoveServiceCommand : ChangeCommand
{
    public required string Service { get; init; }

    public required string Node { get; init; }
}

/// <summary>
/// A node reports how each of its service instances is doing: the whole list, replacing its last report. Written by the
/// node itself when an instance starts, stops, fails or passes its first monitor, so that every node's status shows every
/// instance, and a rolling restart sees the new instance come up.
/// </summary>
public sealed record ReportServiceInstancesCommand : ChangeCommand
{
    public required string Node { get; init; }

    /// <summary>Service name → its instance on this node.</summary>
    public required IReadOnlyDictionary<string, ServiceInstanceReport> Instances { get; init; }
}
