using System.IO.Pipelines;

namespace Switchman.Cluster.Transport;

/// <summary>The transport of an authenticated connection: a contact-tracking input and the socket's own output.</summary>
internal sealed class TrackingDuplexPipe(PipeReader input, PipeWriter output) : IDuplexPipe
{
    public PipeReader Input { get; } = input;

    public PipeWriter Output { get; } = output;
}
