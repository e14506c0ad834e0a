using System.Collections;
using System.Collections.Immutable;

namespace Switchman.Core.Configuration;

/// <summary>
/// An immutable list with value equality, so configuration records that hold lists compare by content
/// (records compare their members with EqualityComparer&lt;T&gt;.Default, which for ordinary lists is reference equality).
/// </summary>
public sealed class ValueList<T> : IReadOnlyList<T>, IEquatable<ValueList<T>>
{
    public static readonly ValueList<T> Empty = new(ImmutableArray<T>.Empty);

    private readonly ImmutableArray<T> _items;

    public ValueList(ImmutableArray<T> items) => _items = items.IsDefault ? ImmutableArray<T>.Empty : items;

    public ValueList(IEnumerable<T> items) : this(items.ToImmutableArray())
    {
    }

    public T this[int index] => _items[index];

    public int Count => _items.Length;

    public ImmutableArray<T>.Enumerator GetEnumerator() => _items.GetEnumerator();

    IEnumerator<T> IEnumerable<T>.GetEnumerator() => ((IEnumerable<T>)_items).GetEnumerator();

    IEnumerator IEnumerable.GetEnumerator() => ((IEnumerable)_items).GetEnumerator();

    public bool Equals(ValueList<T>? other) =>
        other is not null && (ReferenceEquals(this, other) || _items.SequenceEqual(other._items));

    public override bool Equals(object? obj) => Equals(obj as ValueList<T>);

    public override int GetHashCode()
    {
        var hash = new HashCode();
        foreach (var item in _items)
        {
            hash.Add(item);
        }
        return hash.ToHashCode();
    }

    public override string ToString() => "[" + string.Join(", ", _items) + "]";

    public static implicit operator ValueList<T>(T[] items) => new(items.ToImmutableArray());
}

public static class ValueList
{
    public static ValueList<T> Create<T>(params T[] items) => new(items.ToImmutableArray());
}
