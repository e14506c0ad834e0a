using Microsoft.Extensions.Logging;

namespace Switchman.Cluster.Transport;

/// <summary>
/// Fault hook of a <see cref="ClusterTransport"/>: cuts this node off from its peers, as a network partition would.
/// While isolated, every live cluster connection is aborted (both directions), outbound connects fail at once, and inbound
/// sockets are closed before any handshake. Isolation refusals are not counted in <see cref="ClusterTransport.RefusedConnections"/>.
/// </summary>
public sealed class ClusterTrafficGate
{
    private readonly Lock _sync = new();
    private readonly ILogger _logger;
    private CancellationTokenSource _open = new();
    private bool _isolated;

    internal ClusterTrafficGate(ILogger logger)
    {
        _logger = logger;
    }

    public bool IsIsolated
    {
        get
        {
            lock (_sync)
            {
                return _isolated;
            }
        }
    }

    /// <summary>
    /// Cancelled when the gate isolates. Handshakes link to it and connections register on it, so that a connection made
    /// just before <see cref="Isolate"/> dies with the others. A token taken while isolated is already cancelled.
    /// </summary>
    internal CancellationToken Token
    {
        get
        {
            lock (_sync)
            {
                return _open.Token;
            }
        }
    }

    /// <summary>Aborts every cluster connection and refuses new ones until <see cref="Heal"/>. Idempotent.</summary>
    public void Isolate()
    {
        CancellationTokenSource closing;
        lock (_sync)
        {
            if (_isolated)
            {
                return;
            }
            _isolated = true;
            closing = _open;
        }
        _logger.TrafficIsolated();
        // Outside the lock: the callbacks abort connections. The source is not disposed, since late registrations on its
        // token must still run at once; it holds no timer, so the collector takes it.
        closing.Cancel();
    }

    /// <summary>Raised after <see cref="Heal"/> allowed connections again.</summary>
    internal event Action? Healed;

    /// <summary>Allows cluster connections again. Idempotent.</summary>
    public void Heal()
    {
        lock (_sync)
        {
            if (!_isolated)
            {
                return;
            }
            _open = new CancellationTokenSource();
            _isolated = false;
        }
        _logger.TrafficHealed();
        Healed?.Invoke();
    }
}
