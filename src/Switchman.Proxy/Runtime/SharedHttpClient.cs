namespace Switchman.Proxy.Runtime;

/// <summary>
/// An HTTP client (connection pool) shared by the backend runtimes of successive configurations: each holder releases
/// it once, and the last release disposes it.
/// </summary>
internal sealed class SharedHttpClient
{
    private int _holders = 1;

    public SharedHttpClient(HttpMessageInvoker invoker) => Invoker = invoker;

    public HttpMessageInvoker Invoker { get; }

    /// <summary>Adds a holder; returns this client.</summary>
    public SharedHttpClient Share()
    {
        Interlocked.Increment(ref _holders);
        return this;
    }

    public void Release()
    {
        if (Interlocked.Decrement(ref _holders) == 0)
        {
            Invoker.Dispose();
        }
    }
}
