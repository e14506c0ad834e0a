namespace Switchman.Core.Configuration;

/// <summary>
/// Where each field path was written in the source, so that errors found after binding (by the validator, on plain
/// records that carry no positions) still point at a line and column.
/// </summary>
internal sealed class ConfigSourceMap(string sourceName)
{
    private readonly Dictionary<string, (int Line, int Column)> _positions = new(StringComparer.Ordinal);

    public string SourceName { get; } = sourceName;

    public void Remember(string path, int line, int column) => _positions.TryAdd(path, (line, column));

    /// <summary>The position of the path or, for a field left at its default, of the nearest enclosing field that was
    /// written; (0, 0) when nothing on the way was written (e.g. a configuration built in code).</summary>
    public (int Line, int Column) Locate(string path)
    {
        while (true)
        {
            if (_positions.TryGetValue(path, out var position))
            {
                return position;
            }
            if (path.Length == 0)
            {
                return (0, 0);
            }
            path = ConfigPath.Parent(path);
        }
    }
}
