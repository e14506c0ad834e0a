using System.Text.Json;
using System.Text.Json.Serialization;
using System.Text.Json.Serialization.Metadata;
using Switchman.Core.Configuration;
using Switchman.Core.Configuration.Loading;
using Switchman.Core.Configuration.Writing;

namespace Switchman.Core.Changes;

/// <summary>
/// How commands and snapshots of the shared state are written: snake_case JSON, enums as their lowercase names, and a
/// configuration as the YAML an operator would write (the text is the stable format; records are this version's view).
/// The metadata is source-generated (<see cref="ChangeJsonContext"/>), so it needs no reflection and works in a
/// Native AOT build; these are the only ways in and out.
/// </summary>
public static class ChangeJson
{
    /// <summary>The options every type of the log and snapshots is (de)serialized with; they resolve only those types.</summary>
    public static JsonSerializerOptions Options => ChangeJsonContext.Default.Options;

    /// <summary>A log entry's payload: polymorphic, with its kind in <c>"type"</c>.</summary>
    public static JsonTypeInfo<ChangeCommand> Command => ChangeJsonContext.Default.ChangeCommand;

    /// <summary>A snapshot: the whole shared state.</summary>
    public static JsonTypeInfo<SharedState> State => ChangeJsonContext.Default.SharedState;

    /// <summary>One line of a node alone's change log.</summary>
    public static JsonTypeInfo<ChangeLogEntry> LogEntry => ChangeJsonContext.Default.ChangeLogEntry;
}

/// <summary>One line of the change log of a node alone: <c>{"index":N,"command":{…}}</c>.</summary>
public sealed record ChangeLogEntry(long Index, ChangeCommand Command);

/// <summary>
/// The web defaults (names read case-insensitively, numbers also from strings) with snake_case names, as the options
/// built by hand were before. Each enum of the state needs its converter named here: one missing would be written as a
/// number (ChangeJsonTests walks the types to catch that).
/// </summary>
[JsonSourceGenerationOptions(
    JsonSerializerDefaults.Web,
    PropertyNamingPolicy = JsonKnownNamingPolicy.SnakeCaseLower,
    Converters = [typeof(SnakeCaseEnumConverter<ServerAdminState>), typeof(SnakeCaseEnumConverter<ServiceInstanceState>), typeof(ConfigAsYaml)])]
[JsonSerializable(typeof(ChangeCommand))]
[JsonSerializable(typeof(SharedState))]
[JsonSerializable(typeof(ChangeLogEntry))]
internal sealed partial class ChangeJsonContext : JsonSerializerContext;

/// <summary>An enum as its snake_case name (<c>ready</c>, <c>drain</c>); the generic converter needs no run-time code generation.</summary>
internal sealed class SnakeCaseEnumConverter<TEnum>() : JsonStringEnumConverter<TEnum>(JsonNamingPolicy.SnakeCaseLower)
    where TEnum : struct, Enum;

/// <summary>A configuration in a log entry or snapshot: its YAML text, read back without validation (the node
/// applying it validates it with its own node-local sections).</summary>
internal sealed class ConfigAsYaml : JsonConverter<SwitchmanConfig>
{
    public override SwitchmanConfig Read(ref Utf8JsonReader reader, Type typeToConvert, JsonSerializerOptions options)
    {
        var yaml = reader.GetString() ?? throw new JsonException("a configuration must be YAML text");
        // Paths in a replicated configuration were made absolute by the node that read them from its file.
        var parsed = ConfigLoader.ParseYaml(yaml, "replicated configuration", Path.GetTempPath());
        return parsed.IsValid
            ? parsed.Config!
            : throw new JsonException($"the configuration cannot be read by this version: {string.Join("; ", parsed.Errors)}");
    }

    public override void Write(Utf8JsonWriter writer, SwitchmanConfig value, JsonSerializerOptions options) =>
        writer.WriteStringValue(ConfigWriter.ToYaml(value));
}
