using System.Text.Json.Serialization;

namespace Switchman.Client;

/// <summary>The API's JSON is snake_case; source-generated so the client needs no reflection.</summary>
[JsonSourceGenerationOptions(
    PropertyNamingPolicy = JsonKnownNamingPolicy.SnakeCaseLower,
    DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull,
    NumberHandling = JsonNumberHandling.AllowReadingFromString)]
[JsonSerializable(typeof(NodeStatus))]
[JsonSerializable(typeof(ServerStatus))]
[JsonSerializable(typeof(ConfigChange))]
[JsonSerializable(typeof(AdminEvent))]
[JsonSerializable(typeof(ApiError))]
[JsonSerializable(typeof(StateRequest))]
[JsonSerializable(typeof(WeightRequest))]
[JsonSerializable(typeof(NewServer))]
[JsonSerializable(typeof(ServerAdded))]
[JsonSerializable(typeof(ClusterStatus))]
[JsonSerializable(typeof(MembershipChange))]
[JsonSerializable(typeof(AddMemberRequest))]
[JsonSerializable(typeof(VipList))]
[JsonSerializable(typeof(NodeStanding))]
[JsonSerializable(typeof(ServiceList))]
[JsonSerializable(typeof(ServiceStatus))]
[JsonSerializable(typeof(ServiceAction))]
internal sealed partial class AdminJsonContext : JsonSerializerContext;

internal sealed record StateRequest(string State);

internal sealed record WeightRequest(int Weight);
