using YamlDotNet.Core;
using YamlDotNet.Core.Events;

namespace Switchman.Core.Configuration.Loading;

/// <summary>
/// Sits between the YAML parser and the representation model and drops every repeated mapping key (with its value),
/// reporting each one. YamlDotNet's model throws on the first duplicate, which would hide every other error in the
/// file; dropping them instead lets loading go on, keeping the first occurrence.
/// </summary>
internal sealed class DuplicateKeyFilter(IParser inner, ConfigErrorCollector errors) : IParser
{
    private readonly List<Frame> _frames = [];

    public ParsingEvent Current => inner.Current!;

    /// <summary>Where the last event handed on ended: the best position to report when the parser fails without
    /// saying where.</summary>
    public Mark LastPosition { get; private set; } = Mark.Empty;

    public bool MoveNext()
    {
        while (inner.MoveNext())
        {
            if (IsRepeatedKey(inner.Current))
            {
                SkipValue();
                continue;
            }
            Track(inner.Current!);
            LastPosition = inner.Current!.End;
            return true;
        }
        return false;
    }

    private bool IsRepeatedKey(ParsingEvent? parsingEvent)
    {
        if (_frames.Count == 0 || _frames[^1] is not { IsMapping: true, ExpectingKey: true } frame || parsingEvent is not Scalar key)
        {
            return false;
        }
        if (frame.FirstSeen.TryGetValue(key.Value, out var firstLine))
        {
            errors.AddAt(
                (int)key.Start.Line,
                (int)key.Start.Column,
                ConfigPath.Child(ParentPath(), key.Value),
                $"duplicate key '{key.Value}' (first written on line {firstLine})");
            return true;
        }
        frame.FirstSeen.Add(key.Value, (int)key.Start.Line);
        return false;
    }

    /// <summary>Consumes the whole value node that follows a dropped key.</summary>
    private void SkipValue()
    {
        var depth = 0;
        do
        {
            if (!inner.MoveNext())
            {
                return;
            }
            depth += inner.Current switch
            {
                MappingStart or SequenceStart => 1,
                MappingEnd or SequenceEnd => -1,
                _ => 0,
            };
        }
        while (depth > 0);
    }

    private void Track(ParsingEvent parsingEvent)
    {
        switch (parsingEvent)
        {
            case MappingStart:
                _frames.Add(new Frame { IsMapping = true });
                break;
            case SequenceStart:
                _frames.Add(new Frame { IsMapping = false });
                break;
            case MappingEnd or SequenceEnd:
                _frames.RemoveAt(_frames.Count - 1);
                NodeCompleted(key: null);
                break;
            case Scalar scalar:
                NodeCompleted(scalar.Value);
                break;
            case AnchorAlias:
                NodeCompleted(key: null);
                break;
        }
    }

    /// <summary>In a mapping, nodes alternate key, value, key…; in a sequence, each node is the next item.</summary>
    private void NodeCompleted(string? key)
    {
        if (_frames.Count == 0)
        {
            return;
        }
        var frame = _frames[^1];
        if (!frame.IsMapping)
        {
            frame.ItemIndex++;
            return;
        }
        if (frame.ExpectingKey)
        {
            frame.CurrentKey = key ?? "?";
        }
        frame.ExpectingKey = !frame.ExpectingKey;
    }

    /// <summary>The field path of the innermost open mapping, for the error message.</summary>
    private string ParentPath()
    {
        var path = "";
        for (var i = 0; i < _frames.Count - 1; i++)
        {
            path = _frames[i].IsMapping ? ConfigPath.Child(path, _frames[i].CurrentKey) : ConfigPath.Item(path, _frames[i].ItemIndex);
        }
        return path;
    }

    private sealed class Frame
    {
        public required bool IsMapping { get; init; }

        public bool ExpectingKey { get; set; } = true;

        public string CurrentKey { get; set; } = "";

        public int ItemIndex { get; set; }

        public Dictionary<string, int> FirstSeen { get; } = new(StringComparer.Ordinal);
    }
}
