namespace Switchman.Proxy.Forwarding;

/// <summary>
/// A connect got no answer in the time allowed. Thrown from the connection pool's connect callback, so the pool reports
/// it as a connection error: the request is known never to have reached the server, and may go to another one.
/// </summary>
internal sealed class ConnectDeadlineExceededException : TimeoutException
{
    public ConnectDeadlineExceededException(string message)
        : base(message)
    {
    }

    public ConnectDeadlineExceededException()
    {
    }

    public ConnectDeadlineExceededException(string message, Exception innerException)
        : base(message, innerException)
    {
    }
}
