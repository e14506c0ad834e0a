namespace Switchman.Proxy.Forwarding;

/// <summary>What the connector may do with a request whose connection is slow to come, carried on the outgoing request.</summary>
internal static class ConnectIntent
{
    /// <summary>
    /// Set on a request's last attempt: it cannot go to another server, so its connect is given the whole
    /// <c>timeouts.connect</c> instead of the server's usual connect time. Only set when true, so that the common case
    /// costs nothing (reading or writing request options allocates them).
    /// </summary>
    public static readonly HttpRequestOptionsKey<bool> WaitForConnect = new("Switchman.WaitForConnect");

    public static bool MustWait(HttpRequestMessage? request) =>
        request is not null && request.Options.TryGetValue(WaitForConnect, out var wait) && wait;
}
