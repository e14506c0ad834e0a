using System.Collections.Frozen;
using System.Security.Cryptography;

namespace Switchman.Admin.Dashboard;

/// <summary>One file of the dashboard: its bytes, its content type and an ETag made from its content.</summary>
public sealed record DashboardAsset(string Path, string ContentType, byte[] Content, string ETag);

/// <summary>
/// The dashboard's files, embedded in this assembly (no CDN, nothing on disk to go missing or be tampered with), read
/// once. The page holds no data of its own: everything it shows comes from the admin API with the operator's token.
/// </summary>
public static class DashboardAssets
{
    /// <summary>Where the dashboard is served on the admin listener.</summary>
    public const string Root = "/dashboard";

    private static readonly (string Path, string Resource, string ContentType)[] Files =
    [
        (Root, "index.html", "text/html; charset=utf-8"),
        (Root + "/app.js", "app.js", "text/javascript; charset=utf-8"),
        (Root + "/app.css", "app.css", "text/css; charset=utf-8"),
    ];

    private static readonly Lazy<FrozenDictionary<string, DashboardAsset>> Loaded = new(Load);

    /// <summary>Every served path, the page first.</summary>
    public static IReadOnlyList<string> Paths { get; } = [.. Files.Select(f => f.Path)];

    public static DashboardAsset Get(string path) => Loaded.Value[path];

    private static FrozenDictionary<string, DashboardAsset> Load()
    {
        var assembly = typeof(DashboardAssets).Assembly;
        return Files.ToFrozenDictionary(f => f.Path, f =>
        {
            var name = "Switchman.Admin.Dashboard." + f.Resource;
            using var stream = assembly.GetManifestResourceStream(name)
                ?? throw new InvalidOperationException($"the dashboard file {f.Resource} is not embedded in {assembly.GetName().Name} (resource {name})");
            using var copy = new MemoryStream();
            stream.CopyTo(copy);
            var content = copy.ToArray();
            return new DashboardAsset(f.Path, f.ContentType, content, $"\"{Convert.ToHexStringLower(SHA256.HashData(content))[..16]}\"");
        }, StringComparer.Ordinal);
    }
}
