using System.Globalization;
using System.Text.Json;
using System.Text.Json.Serialization;

namespace Switchman.Admin.Control;

/// <summary>
/// Writes an event's <see cref="NodeEvent.Data"/>: values of the few kinds publishers put there (text, whole numbers,
/// flags, lists of text, null), each as the serializer writes it. By hand, because source-generated metadata knows
/// types named at compile time only, and a value's type is known at run time (a list built by a collection expression
/// is a compiler-made type no context can name). Anything else is written as its invariant text rather than failing
/// the stream.
/// </summary>
internal sealed class EventDataConverter : JsonConverter<IReadOnlyDictionary<string, object?>>
{
    /// <summary>Values come back as <see cref="JsonElement"/>s, as an <c>object</c> is read.</summary>
    public override IReadOnlyDictionary<string, object?> Read(ref Utf8JsonReader reader, Type typeToConvert, JsonSerializerOptions options)
    {
        using var document = JsonDocument.ParseValue(ref reader);
        var data = new Dictionary<string, object?>(StringComparer.Ordinal);
        foreach (var property in document.RootElement.EnumerateObject())
        {
            data[property.Name] = property.Value.ValueKind == JsonValueKind.Null ? null : property.Value.Clone();
        }
        return data;
    }

    public override void Write(Utf8JsonWriter writer, IReadOnlyDictionary<string, object?> value, JsonSerializerOptions options)
    {
        writer.WriteStartObject();
        foreach (var (key, item) in value)
        {
            writer.WritePropertyName(key);
            WriteValue(writer, item);
        }
        writer.WriteEndObject();
    }

    private static void WriteValue(Utf8JsonWriter writer, object? value)
    {
        switch (value)
        {
            case null:
                writer.WriteNullValue();
                break;
            case string text:
                writer.WriteStringValue(text);
                break;
            case bool flag:
                writer.WriteBooleanValue(flag);
                break;
            case int number:
                writer.WriteNumberValue(number);
                break;
            case long number:
                writer.WriteNumberValue(number);
                break;
            case double number:
                writer.WriteNumberValue(number);
                break;
            case JsonElement element:
                // A value read back (Read above) is written as it was read.
                element.WriteTo(writer);
                break;
            case IEnumerable<string?> list:
                writer.WriteStartArray();
                foreach (var text in list)
                {
                    writer.WriteStringValue(text);
                }
                writer.WriteEndArray();
                break;
            default:
                writer.WriteStringValue(Convert.ToString(value, CultureInfo.InvariantCulture));
                break;
        }
    }
}
