using YamlDotNet.Core;
using YamlDotNet.RepresentationModel;

namespace Switchman.Core.Configuration.Loading;

/// <summary>
/// Converts single YAML nodes to typed values. A node of the wrong kind or form is reported at its field path and
/// yields null, so the caller falls back to the default and binding goes on to find further errors.
/// </summary>
internal sealed class YamlValueReader(ConfigErrorCollector errors)
{
    public ConfigErrorCollector Errors { get; } = errors;

    /// <summary>YAML's null: an empty value, <c>~</c> or <c>null</c>. We treat it as "not written".</summary>
    public static bool IsNull(YamlNode node) =>
        node is YamlScalarNode { Style: ScalarStyle.Plain or ScalarStyle.Any, Value: null or "" or "~" or "null" or "Null" or "NULL" };

    public string? String(YamlNode node, string path) => Scalar(node, path, "a string");

    public int? Int(YamlNode node, string path) =>
        Scalar(node, path, "a whole number") is { } text
            ? ScalarFormats.TryParseInt(text, out var value) ? value : Fail<int>(path, $"expected a whole number, not '{text}'")
            : null;

    public bool? Bool(YamlNode node, string path) =>
        Scalar(node, path, "true or false") is { } text
            ? ScalarFormats.TryParseBool(text, out var value) ? value : Fail<bool>(path, $"expected true or false, not '{text}'")
            : null;

    public TimeSpan? Duration(YamlNode node, string path)
    {
        if (Scalar(node, path, "a duration") is not { } text)
        {
            return null;
        }
        if (ScalarFormats.TryParseDuration(text, out var value))
        {
            return value;
        }
        return ScalarFormats.IsBareNumber(text)
            ? Fail<TimeSpan>(path, $"'{text}' has no unit; write a duration such as {ScalarFormats.DurationForms}")
            : Fail<TimeSpan>(path, $"expected a duration such as {ScalarFormats.DurationForms}, not '{text}'");
    }

    public long? Size(YamlNode node, string path) =>
        Scalar(node, path, "a size") is { } text
            ? ScalarFormats.TryParseSize(text, out var value) ? value : Fail<long>(path, $"expected a size such as {ScalarFormats.SizeForms}, not '{text}'")
            : null;

    public StatusRange? StatusRange(YamlNode node, string path) =>
        Scalar(node, path, "a status code") is { } text
            ? ScalarFormats.TryParseStatusRange(text, out var value)
                ? value
                : Fail<StatusRange>(path, $"expected a status code like 200 or a range like 200-399, not '{text}'")
            : null;

    public T? Enum<T>(YamlNode node, string path)
        where T : struct, Enum =>
        Scalar(node, path, ScalarFormats.EnumNames<T>()) is { } text
            ? ScalarFormats.TryParseEnum<T>(text, out var value) ? value : Fail<T>(path, $"'{text}' is not one of: {ScalarFormats.EnumNames<T>()}")
            : null;

    /// <summary>A mapping; null (written as nothing) reads as an empty one when <paramref name="nullIsEmpty"/>.</summary>
    public YamlMapReader? Map(YamlNode node, string path, bool nullIsEmpty = false)
    {
        if (node is YamlMappingNode map)
        {
            return new YamlMapReader(this, map, path);
        }
        if (nullIsEmpty && IsNull(node))
        {
            return new YamlMapReader(this, new YamlMappingNode(), path);
        }
        Errors.Add(path, $"expected a map, not {Describe(node)}");
        return null;
    }

    /// <summary>The items of a list, each with its path; a single scalar is taken as a one-item list.</summary>
    public IReadOnlyList<(YamlNode Node, string Path)> List(YamlNode node, string path)
    {
        switch (node)
        {
            case YamlSequenceNode sequence:
                var items = new List<(YamlNode, string)>(sequence.Children.Count);
                foreach (var item in sequence.Children)
                {
                    var itemPath = ConfigPath.Item(path, items.Count);
                    Errors.SourceMap.Remember(itemPath, (int)item.Start.Line, (int)item.Start.Column);
                    items.Add((item, itemPath));
                }
                return items;
            case YamlScalarNode when !IsNull(node):
                return [(node, path)];
            default:
                Errors.Add(path, $"expected a list, not {Describe(node)}");
                return [];
        }
    }

    public static string Describe(YamlNode node) => node switch
    {
        YamlMappingNode => "a map",
        YamlSequenceNode => "a list",
        YamlScalarNode when IsNull(node) => "nothing",
        YamlScalarNode scalar => $"'{scalar.Value}'",
        _ => "an alias",
    };

    private string? Scalar(YamlNode node, string path, string expected)
    {
        if (node is YamlScalarNode scalar && !IsNull(node))
        {
            return scalar.Value ?? "";
        }
        Errors.Add(path, $"expected {expected}, not {Describe(node)}");
        return null;
    }

    private T? Fail<T>(string path, string message)
        where T : struct
    {
        Errors.Add(path, message);
        return null;
    }
}
