using System.Text.Json;
using System.Text.Json.Serialization;
using Switchman.Admin.Api;
using Switchman.Admin.Services;
using Switchman.Core.Changes;

namespace Switchman.Admin.Clustering;

/// <summary>
/// The messages nodes send each other under <c>/_cluster/</c> (besides commands, which are <see cref="ChangeJson"/>):
/// the web defaults with snake_case names. Source-generated, so a Native AOT build reads and writes them too.
/// </summary>
[JsonSourceGenerationOptions(JsonSerializerDefaults.Web, PropertyNamingPolicy = JsonKnownNamingPolicy.SnakeCaseLower)]
[JsonSerializable(typeof(ChangeOutcome))]
[JsonSerializable(typeof(ClusterSelfDocument))]
[JsonSerializable(typeof(ServerView))]
[JsonSerializable(typeof(ClusterEndpoints.MembershipOperation))]
internal sealed partial class NodeToNodeJson : JsonSerializerContext;
