namespace Switchman.Proxy;

/// <summary>A server by its backend's name and its own.</summary>
public readonly record struct ServerKey(string Backend, string Server)
{
    public override string ToString() => $"{Backend}/{Server}";
}
