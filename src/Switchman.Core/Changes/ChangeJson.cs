using System.Text.Json;
using System.Text.Json.Serialization;
using Switchman.Core.Configuration;
using Switchman.Core.Configuration.Loading;
using Switchman.Core.Configuration.Writing;

namespace Switchman.Core.Changes;

/// <summary>
/// How commands and snapshots of the shared state are written: snake_case JSON, enums as their lowercase names, and a
/// configuration as the YAML an operator would write (the text is the stable format; records are this version's view).
/// </summary>
public static class ChangeJson
{
    public static readonly JsonSerializerOptions Options = new(JsonSerializerDefaults.Web)
    {
        PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower,
        Converters = { new JsonStringEnumConverter(JsonNamingPolicy.SnakeCaseLower), new ConfigAsYaml() },
    };

    /// <summary>A configuration in a log entry or snapshot: its YAML text, read back without validation (the node
    /// applying it validates it with its own node-local sections).</summary>
    private sealed class ConfigAsYaml : JsonConverter<SwitchmanConfig>
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
}
