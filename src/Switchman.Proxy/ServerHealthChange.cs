namespace Switchman.Proxy;

/// <summary>Active health checks took a server down or brought it back; <paramref name="Detail"/> is the deciding check's result.</summary>
public sealed record ServerHealthChange(string Backend, string Server, bool Up, string Detail);
