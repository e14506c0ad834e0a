using System.Collections.Immutable;
using System.Text;
using System.Text.Json;
using System.Text.Json.Serialization.Metadata;
using Switchman.Core.Changes;
using Switchman.Core.Configuration;

namespace Switchman.Core.Tests.Changes;

/// <summary>
/// The log and snapshot format: source-generated (<see cref="ChangeJson"/>), it must stay the JSON that the
/// reflection-based serializer of earlier versions wrote, since logs, snapshots and a cluster's members outlive a version.
/// </summary>
public sealed class ChangeJsonTests
{
    private static readonly DateTimeOffset At = new(2026, 12, 6, 12, 0, 0, TimeSpan.Zero);

    [Fact]
    public void Every_enum_in_commands_and_snapshots_is_written_as_its_name()
    {
        // A converter left out of the context's options would write an enum as a number, silently.
        var enums = new List<Type>();
        Visit(ChangeJson.Command, enums, []);
        Visit(ChangeJson.State, enums, []);
        Visit(ChangeJson.LogEntry, enums, []);

        Assert.NotEmpty(enums);
        foreach (var type in enums)
        {
            var first = Enum.GetValues(type).GetValue(0);
            var json = JsonSerializer.Serialize(first, ChangeJson.Options.GetTypeInfo(type));
            Assert.True(json.StartsWith('"'), $"{type.Name} is written as {json}");
        }
    }

    [Fact]
    public void Every_command_is_written_as_earlier_versions_wrote_it_and_read_back()
    {
        foreach (var (command, expected) in Commands())
        {
            Assert.Equal(expected, Encoding.UTF8.GetString(command.ToBytes()));
            // Compared as written again: a command holding a dictionary is not equal to its copy.
            Assert.Equal(expected, Encoding.UTF8.GetString(ChangeCommand.FromBytes(Encoding.UTF8.GetBytes(expected))!.ToBytes()));
        }
    }

    [Fact]
    public void A_snapshot_is_written_as_earlier_versions_wrote_it_and_read_back()
    {
        var state = Snapshot();

        var json = Encoding.UTF8.GetString(JsonSerializer.SerializeToUtf8Bytes(state, ChangeJson.State));

        Assert.Equal(SnapshotJson, json);
        var back = JsonSerializer.Deserialize(json, ChangeJson.State)!;
        Assert.Equal(json, Encoding.UTF8.GetString(JsonSerializer.SerializeToUtf8Bytes(back, ChangeJson.State)));
    }

    [Fact]
    public void A_log_entry_is_its_index_and_command()
    {
        var entry = new ChangeLogEntry(7, Commands()[1].Command);

        var json = Encoding.UTF8.GetString(JsonSerializer.SerializeToUtf8Bytes(entry, ChangeJson.LogEntry));

        Assert.Equal($"{{\"index\":7,\"command\":{Commands()[1].Json}}}", json);
        Assert.Equal(entry, JsonSerializer.Deserialize(json, ChangeJson.LogEntry));
    }

    private static void Visit(JsonTypeInfo info, List<Type> enums, HashSet<Type> seen)
    {
        if (!seen.Add(info.Type))
        {
            return;
        }
        var type = Nullable.GetUnderlyingType(info.Type) ?? info.Type;
        if (type.IsEnum)
        {
            enums.Add(type);
            return;
        }
        var next = info.Properties.Select(p => p.PropertyType)
            .Concat(info.PolymorphismOptions?.DerivedTypes.Select(d => d.DerivedType) ?? [])
            .Concat(new[] { info.ElementType, info.KeyType }.OfType<Type>());
        foreach (var child in next)
        {
            Visit(ChangeJson.Options.GetTypeInfo(child), enums, seen);
        }
    }

    private static (ChangeCommand Command, string Json)[] Commands() =>
    [
        (new ApplyConfigCommand { ChangeId = "c1", Author = "ops", ProposedAt = At, Config = SharedStateTests.Shared(("a", 2)), ExpectedRevision = 3 },
            """{"type":"apply_config","yaml":"frontends:\n  web:\n    listen: 127.0.0.1:8080\n    default_backend: api\nbackends:\n  api:\n    servers:\n    - name: a\n      address: 127.0.0.1:7097\n      weight: 2\n","expected_revision":3,"change_id":"c1","author":"ops","proposed_at":"2026-12-06T12:00:00+00:00"}"""),
        (new SetServerStateCommand { ChangeId = "s1", Author = "ops", ProposedAt = At, Backend = "api", Server = "a", State = ServerAdminState.Drain },
            """{"type":"set_server_state","backend":"api","server":"a","state":"drain","change_id":"s1","author":"ops","proposed_at":"2026-12-06T12:00:00+00:00"}"""),
        (new SetServerWeightCommand { ChangeId = "w1", Author = "ops", ProposedAt = At, Backend = "api", Server = "a", Weight = 9 },
            """{"type":"set_server_weight","backend":"api","server":"a","weight":9,"change_id":"w1","author":"ops","proposed_at":"2026-12-06T12:00:00+00:00"}"""),
        (new AddServerCommand
        {
            ChangeId = "add1", Author = "ops", ProposedAt = At, Backend = "api",
            Server = new ServerConfig { Name = "c", Address = "127.0.0.1:7003", Weight = 4, Backup = true, State = ServerAdminState.Maint },
        }, """{"type":"add_server","backend":"api","server":{"name":"c","address":"127.0.0.1:7003","weight":4,"backup":true,"state":"maint"},"change_id":"add1","author":"ops","proposed_at":"2026-12-06T12:00:00+00:00"}"""),
        (new RemoveServerCommand { ChangeId = "rm1", Author = "ops", ProposedAt = At, Backend = "api", Server = "a" }, """{"type":"remove_server","backend":"api","server":"a","change_id":"rm1","author":"ops","proposed_at":"2026-12-06T12:00:00+00:00"}"""),
        (new AssignVipCommand { ChangeId = "v1", Author = "leader", ProposedAt = At, Vip = "web", Node = "n2", Term = 4, ReleasedFrom = "n1", Reason = "node lost" }, """{"type":"assign_vip","vip":"web","node":"n2","term":4,"released_from":"n1","reason":"node lost","change_id":"v1","author":"leader","proposed_at":"2026-12-06T12:00:00+00:00"}"""),
        (new AssignVipCommand { ChangeId = "v2", Author = "leader", ProposedAt = At, Vip = "web", Node = null, Term = 4, Reason = "standby" }, """{"type":"assign_vip","vip":"web","node":null,"term":4,"released_from":null,"reason":"standby","change_id":"v2","author":"leader","proposed_at":"2026-12-06T12:00:00+00:00"}"""),
        (new SetNodeStandbyCommand { ChangeId = "n1", Author = "ops", ProposedAt = At, Node = "n1", Standby = true }, """{"type":"set_node_standby","node":"n1","standby":true,"change_id":"n1","author":"ops","proposed_at":"2026-12-06T12:00:00+00:00"}"""),
        (new ReportVipReadinessCommand
        {
            ChangeId = "r1", Author = "n1", ProposedAt = At, Node = "n1",
            Unready = ImmutableSortedDictionary.CreateRange(StringComparer.Ordinal, [KeyValuePair.Create("web", "no available server")]),
        }, """{"type":"report_vip_readiness","node":"n1","unready":{"web":"no available server"},"change_id":"r1","author":"n1","proposed_at":"2026-12-06T12:00:00+00:00"}"""),
        (new SetServiceTargetCommand { ChangeId = "t1", Author = "ops", ProposedAt = At, Service = "worker", Started = false }, """{"type":"set_service_target","service":"worker","started":false,"change_id":"t1","author":"ops","proposed_at":"2026-12-06T12:00:00+00:00"}"""),
        (new RestartServiceCommand { ChangeId = "rs1", Author = "ops", ProposedAt = At, Service = "worker", Node = "n2" }, """{"type":"restart_service","service":"worker","node":"n2","change_id":"rs1","author":"ops","proposed_at":"2026-12-06T12:00:00+00:00"}"""),
        (new CleanupServiceCommand { ChangeId = "cl1", Author = "ops", ProposedAt = At, Service = "worker" }, """{"type":"cleanup_service","service":"worker","node":null,"change_id":"cl1","author":"ops","proposed_at":"2026-12-06T12:00:00+00:00"}"""),
        (new MoveServiceCommand { ChangeId = "mv1", Author = "ops", ProposedAt = At, Service = "worker", Node = "n1" }, """{"type":"move_service","service":"worker","node":"n1","change_id":"mv1","author":"ops","proposed_at":"2026-12-06T12:00:00+00:00"}"""),
        (new ReportServiceInstancesCommand
        {
            ChangeId = "si1", Author = "n1", ProposedAt = At, Node = "n1",
            Instances = ImmutableSortedDictionary.CreateRange(StringComparer.Ordinal, [KeyValuePair.Create("worker", Instance())]),
        }, """{"type":"report_service_instances","node":"n1","instances":{"worker":{"state":"failed","pid":4242,"started_at":"2026-12-06T12:00:00+00:00","failures":2,"last_failure":"exit code 3","last_failure_at":"2026-12-06T12:00:05+00:00","problem":"failed 2 times","restart_index":11,"cleanup_index":12,"move_index":13}},"change_id":"si1","author":"n1","proposed_at":"2026-12-06T12:00:00+00:00"}"""),
    ];

    private static ServiceInstanceReport Instance() => new()
    {
        State = ServiceInstanceState.Failed, Pid = 4242, StartedAt = At, Failures = 2, LastFailure = "exit code 3", LastFailureAt = At.AddSeconds(5),
        Problem = "failed 2 times", RestartIndex = 11, CleanupIndex = 12, MoveIndex = 13,
    };

    private static SharedState Snapshot() => SharedStateTests.Started(("a", 1), ("b", 2)) with
    {
        Overrides = ImmutableSortedDictionary.CreateRange(StringComparer.Ordinal,
            [KeyValuePair.Create("api/a", new ServerOverride(ServerAdminState.Drain, 5, "ops")), KeyValuePair.Create("api/b", new ServerOverride(null, 3, null))]),
        Vips = ImmutableSortedDictionary.CreateRange(StringComparer.Ordinal,
            [KeyValuePair.Create("web", new VipAssignment("n2", 4, 9, At, "node lost", "n1", At.AddSeconds(-2)))]),
        Nodes = ImmutableSortedDictionary.CreateRange(StringComparer.Ordinal,
            [KeyValuePair.Create("n1", new NodeStanding(true, "ops", ImmutableSortedDictionary.CreateRange(StringComparer.Ordinal, [KeyValuePair.Create("web", "standby")])))]),
        StoppedServices = ImmutableSortedDictionary.CreateRange(StringComparer.Ordinal, [KeyValuePair.Create("worker", "ops")]),
        ServiceOrders = ImmutableSortedDictionary.CreateRange(StringComparer.Ordinal, [KeyValuePair.Create("restart:worker@n2", 11L)]),
        ServiceInstances = ImmutableSortedDictionary.CreateRange(StringComparer.Ordinal,
            [KeyValuePair.Create("worker", ImmutableSortedDictionary.CreateRange(StringComparer.Ordinal, [KeyValuePair.Create("n1", Instance())]))]),
    };

    private const string SnapshotJson =
        """{"revision":3,"config":"frontends:\n  web:\n    listen: 127.0.0.1:8080\n    default_backend: api\nbackends:\n  api:\n    servers:\n    - name: a\n      address: 127.0.0.1:7097\n    - name: b\n      address: 127.0.0.1:7098\n      weight: 2\n","author":"ops","changed_at":"2026-12-06T12:00:00+00:00","overrides":{"api/a":{"state":"drain","weight":5,"author":"ops","is_empty":false},"api/b":{"state":null,"weight":3,"author":null,"is_empty":false}},"vips":{"web":{"node":"n2","term":4,"index":9,"since":"2026-12-06T12:00:00+00:00","reason":"node lost","previous_node":"n1","released_at":"2026-12-06T11:59:58+00:00"}},"nodes":{"n1":{"standby":true,"standby_author":"ops","unready":{"web":"standby"},"is_default":false}},"stopped_services":{"worker":"ops"},"service_orders":{"restart:worker@n2":11},"service_instances":{"worker":{"n1":{"state":"failed","pid":4242,"started_at":"2026-12-06T12:00:00+00:00","failures":2,"last_failure":"exit code 3","last_failure_at":"2026-12-06T12:00:05+00:00","problem":"failed 2 times","restart_index":11,"cleanup_index":12,"move_index":13}}},"applied_index":3,"recent_changes":[{"change_id":"c0","index":3,"accepted":true,"revision":3,"refusal":null}]}""";
}
