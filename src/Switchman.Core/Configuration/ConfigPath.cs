namespace Switchman.Core.Configuration;

/// <summary>Builds and walks field paths such as <c>frontends.web.routes[0].backend</c>.</summary>
internal static class ConfigPath
{
    public static string Child(string parent, string key) => parent.Length == 0 ? key : $"{parent}.{key}";

    public static string Item(string parent, int index) => $"{parent}[{index}]";

    /// <summary>The enclosing path: <c>a.b[2]</c> → <c>a.b</c> → <c>a</c> → empty.</summary>
    public static string Parent(string path)
    {
        var cut = Math.Max(path.LastIndexOf('.'), path.LastIndexOf('['));
        return cut <= 0 ? "" : path[..cut];
    }
}
