using System.Text.Json.Serialization;
using System.Threading.Channels;

namespace Switchman.Admin.Control;

/// <summary>One thing that changed on the node, as operators see it in <c>GET /api/v1/events</c>.</summary>
/// <param name="Id">Increasing sequence number; <c>?since=Id</c> resumes after it.</param>
/// <param name="Type">server_down, server_up, server_state_changed, server_weight_changed, server_added, server_removed,
/// config_applied, config_refused; in a cluster also config_apply_failed, leader_changed, member_joined, member_left,
/// member_unreachable, member_reachable.</param>
/// <param name="Message">One line for humans.</param>
/// <param name="Data">Machine-readable details (backend, server, revision, author, reason, errors…).</param>
public sealed record NodeEvent(
    [property: JsonPropertyName("id")] long Id,
    [property: JsonPropertyName("time")] DateTimeOffset Time,
    [property: JsonPropertyName("type")] string Type,
    [property: JsonPropertyName("message")] string Message,
    [property: JsonPropertyName("data"), JsonConverter(typeof(EventDataConverter))] IReadOnlyDictionary<string, object?> Data);

/// <summary>
/// The node's event stream: a bounded in-memory history plus live subscribers. Publishing never blocks: a subscriber
/// that cannot keep up loses its oldest unread events rather than slowing the node.
/// </summary>
public sealed class NodeEvents
{
    public const int HistoryCapacity = 1000;
    private const int SubscriberBuffer = 1000;

    private readonly TimeProvider _time;
    private readonly Lock _lock = new();
    private readonly LinkedList<NodeEvent> _history = new();
    private readonly List<Channel<NodeEvent>> _subscribers = [];
    private long _nextId = 1;

    public NodeEvents(TimeProvider time) => _time = time;

    public NodeEvent Publish(string type, string message, IReadOnlyDictionary<string, object?>? data = null)
    {
        lock (_lock)
        {
            var evt = new NodeEvent(_nextId++, _time.GetUtcNow(), type, message, data ?? new Dictionary<string, object?>());
            _history.AddLast(evt);
            if (_history.Count > HistoryCapacity)
            {
                _history.RemoveFirst();
            }
            foreach (var subscriber in _subscribers)
            {
                subscriber.Writer.TryWrite(evt);
            }
            return evt;
        }
    }

    /// <summary>Events with an id greater than <paramref name="since"/> still in the history, oldest first.</summary>
    public IReadOnlyList<NodeEvent> Since(long since)
    {
        lock (_lock)
        {
            return [.. _history.Where(e => e.Id > since)];
        }
    }

    /// <summary>
    /// The history after <paramref name="since"/> followed by every new event, until the token is cancelled. Taking the
    /// history and subscribing happen under one lock, so no event falls between them.
    /// </summary>
    public async IAsyncEnumerable<NodeEvent> FollowAsync(long since, [System.Runtime.CompilerServices.EnumeratorCancellation] CancellationToken cancellationToken)
    {
        var channel = Channel.CreateBounded<NodeEvent>(new BoundedChannelOptions(SubscriberBuffer)
        {
            FullMode = BoundedChannelFullMode.DropOldest,
            SingleReader = true,
        });
        List<NodeEvent> backlog;
        lock (_lock)
        {
            backlog = [.. _history.Where(e => e.Id > since)];
            _subscribers.Add(channel);
        }
        try
        {
            foreach (var evt in backlog)
            {
                yield return evt;
            }
            await foreach (var evt in channel.Reader.ReadAllAsync(cancellationToken).ConfigureAwait(false))
            {
                yield return evt;
            }
        }
        finally
        {
            lock (_lock)
            {
                _subscribers.Remove(channel);
            }
        }
    }
}
