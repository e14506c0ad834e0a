using System.Net;
using System.Net.Sockets;
using Switchman.Proxy.Forwarding;

namespace Switchman.Proxy.Tests;

/// <summary>How a fake server answers connects.</summary>
internal enum FakeAnswer
{
    /// <summary>At once, with the round trip given.</summary>
    Answer,

    /// <summary>Never (a powered-off host): the connect waits until cancelled, or until the test answers it.</summary>
    Silent,

    /// <summary>At once, with a refusal.</summary>
    Refuse,
}

/// <summary>Connects that the test controls: per port, answered, silent or refused, and every dial kept for inspection.</summary>
internal sealed class FakeDialer : ITcpDialer
{
    private readonly Lock _lock = new();
    private readonly Dictionary<int, (FakeAnswer Answer, TimeSpan RoundTrip)> _behaviour = [];
    private readonly List<FakeConnect> _connects = [];

    public IReadOnlyList<FakeConnect> Connects
    {
        get
        {
            lock (_lock)
            {
                return [.. _connects];
            }
        }
    }

    public void Set(int port, FakeAnswer answer, TimeSpan? roundTrip = null)
    {
        lock (_lock)
        {
            _behaviour[port] = (answer, roundTrip ?? TimeSpan.FromMicroseconds(300));
        }
    }

    public IReadOnlyList<FakeConnect> To(int port) => [.. Connects.Where(c => c.EndPoint.Port == port)];

    public TcpDial Dial(DnsEndPoint endPoint, CancellationToken cancellationToken)
    {
        (FakeAnswer Answer, TimeSpan RoundTrip) behaviour;
        var connect = new FakeConnect(endPoint, cancellationToken);
        lock (_lock)
        {
            behaviour = _behaviour.GetValueOrDefault(endPoint.Port, (FakeAnswer.Answer, TimeSpan.FromMicroseconds(300)));
            _connects.Add(connect);
        }
        switch (behaviour.Answer)
        {
            case FakeAnswer.Answer:
                connect.Answer(behaviour.RoundTrip);
                break;
            case FakeAnswer.Refuse:
                connect.Refuse();
                break;
        }
        return connect.Dial;
    }
}

/// <summary>One fake connect.</summary>
internal sealed class FakeConnect
{
    private readonly TaskCompletionSource<Stream> _completion = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private TimeSpan? _roundTrip;

    public FakeConnect(DnsEndPoint endPoint, CancellationToken cancellationToken)
    {
        EndPoint = endPoint;
        cancellationToken.Register(() => _completion.TrySetCanceled(cancellationToken));
        Dial = new TcpDial(_completion.Task, handshakeRoundTrip: () => _roundTrip);
    }

    public DnsEndPoint EndPoint { get; }

    public TcpDial Dial { get; }

    public bool IsPending => !_completion.Task.IsCompleted;

    public bool WasCancelled => _completion.Task.IsCanceled;

    public void Answer(TimeSpan roundTrip)
    {
        _roundTrip = roundTrip;
        _completion.TrySetResult(new MemoryStream());
    }

    public void Refuse() => _completion.TrySetException(new SocketException((int)SocketError.ConnectionRefused));
}
