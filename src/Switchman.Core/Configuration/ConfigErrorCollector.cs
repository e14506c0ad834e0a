namespace Switchman.Core.Configuration;

/// <summary>
/// Collects every configuration error (binding and validation write to the same collector) so an operator sees all
/// of them at once, in file order.
/// </summary>
internal sealed class ConfigErrorCollector(ConfigSourceMap sourceMap)
{
    private readonly List<ConfigError> _errors = [];

    // Fields the binder already complained about: the validator stays quiet on them, so one mistake gives one error.
    private readonly HashSet<string> _failedPaths = new(StringComparer.Ordinal);

    public ConfigSourceMap SourceMap { get; } = sourceMap;

    public int Count => _errors.Count;

    /// <summary>Reports an error located at the path's position in the source.</summary>
    public void Add(string path, string message)
    {
        var (line, column) = SourceMap.Locate(path);
        AddAt(line, column, path, message);
    }

    /// <summary>Reports an error at an explicit position (syntax errors, duplicate keys: things with no bound field).</summary>
    public void AddAt(int line, int column, string path, string message)
    {
        _failedPaths.Add(path);
        _errors.Add(new ConfigError(SourceMap.SourceName, line, column, path, message));
    }

    /// <summary>Reports a validation error unless binding already reported one for the same field.</summary>
    public void AddUnlessFailed(string path, string message)
    {
        if (!_failedPaths.Contains(path))
        {
            Add(path, message);
        }
    }

    /// <summary>Marks a field as already reported (e.g. a missing required key reported on its parent).</summary>
    public void MarkFailed(string path) => _failedPaths.Add(path);

    /// <summary>The errors in file order; errors without a position come last.</summary>
    public IReadOnlyList<ConfigError> ToList() =>
        _errors.OrderBy(e => e.Line == 0 ? int.MaxValue : e.Line).ThenBy(e => e.Column).ToArray();
}
