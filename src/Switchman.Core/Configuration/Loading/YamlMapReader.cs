using YamlDotNet.RepresentationModel;

namespace Switchman.Core.Configuration.Loading;

/// <summary>
/// Reads one YAML mapping by key. Every key asked for becomes a known key, so after a record has read all its fields,
/// <see cref="ReportUnknownKeys"/> can name whatever is left (typos, misplaced fields) and suggest the closest known key.
/// Absent keys and keys written as nothing (YAML null) read as null, meaning "use the default".
/// </summary>
internal sealed class YamlMapReader
{
    private readonly YamlValueReader _values;
    private readonly List<(string Key, YamlNode Value)> _entries = [];
    private readonly HashSet<string> _knownKeys = new(StringComparer.Ordinal);

    public YamlMapReader(YamlValueReader values, YamlMappingNode node, string path)
    {
        _values = values;
        Path = path;
        foreach (var (keyNode, value) in node.Children)
        {
            if (keyNode is not YamlScalarNode { Value: { } key })
            {
                values.Errors.AddAt((int)keyNode.Start.Line, (int)keyNode.Start.Column, path, "keys must be plain names, not lists or maps");
                continue;
            }
            // Errors point at the key: it is where the field starts, even when its value is a block below it.
            values.Errors.SourceMap.Remember(ConfigPath.Child(path, key), (int)keyNode.Start.Line, (int)keyNode.Start.Column);
            _entries.Add((key, value));
        }
    }

    public string Path { get; }

    /// <summary>All entries in file order, for maps keyed by name (frontends, backends). Marks nothing as unknown.</summary>
    public IReadOnlyList<(string Key, YamlNode Value)> Entries => _entries;

    public string ChildPath(string key) => ConfigPath.Child(Path, key);

    /// <summary>The value node of the key, or null when absent or written as nothing.</summary>
    public YamlNode? Find(string key)
    {
        _knownKeys.Add(key);
        foreach (var entry in _entries)
        {
            if (entry.Key == key)
            {
                return YamlValueReader.IsNull(entry.Value) ? null : entry.Value;
            }
        }
        return null;
    }

    public string? String(string key) => Find(key) is { } node ? _values.String(node, ChildPath(key)) : null;

    /// <summary>A string that must be there and not be empty; when it is not, the error points at this map (or at
    /// the empty value) and "" stands in.</summary>
    public string RequiredString(string key)
    {
        if (Find(key) is { } node)
        {
            var value = _values.String(node, ChildPath(key));
            if (value is { Length: 0 })
            {
                _values.Errors.Add(ChildPath(key), "must not be empty");
            }
            return value ?? "";
        }
        _values.Errors.Add(Path, $"missing required key '{key}'");
        _values.Errors.MarkFailed(ChildPath(key));
        return "";
    }

    /// <summary>An enumeration value that must be there; when it is absent the error points at this map and
    /// <paramref name="fallback"/> stands in.</summary>
    public T RequiredEnum<T>(string key, T fallback)
        where T : struct, Enum
    {
        if (Find(key) is { } node)
        {
            return _values.Enum<T>(node, ChildPath(key)) ?? fallback;
        }
        _values.Errors.Add(Path, $"missing required key '{key}'");
        _values.Errors.MarkFailed(ChildPath(key));
        return fallback;
    }

    public int? Int(string key) => Find(key) is { } node ? _values.Int(node, ChildPath(key)) : null;

    public bool? Bool(string key) => Find(key) is { } node ? _values.Bool(node, ChildPath(key)) : null;

    public TimeSpan? Duration(string key) => Find(key) is { } node ? _values.Duration(node, ChildPath(key)) : null;

    public long? Size(string key) => Find(key) is { } node ? _values.Size(node, ChildPath(key)) : null;

    public T? Enum<T>(string key)
        where T : struct, Enum => Find(key) is { } node ? _values.Enum<T>(node, ChildPath(key)) : null;

    public YamlMapReader? Map(string key) => Find(key) is { } node ? _values.Map(node, ChildPath(key)) : null;

    /// <summary>The items of a list (or of a single scalar); null when the key is absent.</summary>
    public IReadOnlyList<(YamlNode Node, string Path)>? List(string key) =>
        Find(key) is { } node ? _values.List(node, ChildPath(key)) : null;

    /// <summary>A list whose items are all converted by <paramref name="convert"/>; items that fail are left out.</summary>
    public ValueList<T>? List<T>(string key, Func<YamlNode, string, T?> convert)
        where T : struct
    {
        if (List(key) is not { } items)
        {
            return null;
        }
        var converted = items.Select(item => convert(item.Node, item.Path)).ToList();
        if (converted.Contains(null))
        {
            // The list lost an item that was reported; don't let the validator also call it too short.
            _values.Errors.MarkFailed(ChildPath(key));
        }
        return new ValueList<T>(converted.OfType<T>());
    }

    /// <summary>Reports <paramref name="message"/> at <paramref name="key"/> of this map.</summary>
    public void Error(string key, string message) => _values.Errors.Add(ChildPath(key), message);

    /// <summary>Reports every key no accessor asked for. Call after all fields of the record were read.</summary>
    public void ReportUnknownKeys()
    {
        foreach (var (key, _) in _entries)
        {
            if (_knownKeys.Contains(key))
            {
                continue;
            }
            var suggestion = KeySuggestion.Find(key, _knownKeys);
            var hint = suggestion is null ? $"known keys here: {string.Join(", ", _knownKeys)}" : $"did you mean '{suggestion}'?";
            _values.Errors.Add(ChildPath(key), $"unknown key '{key}'; {hint}");
        }
    }
}
