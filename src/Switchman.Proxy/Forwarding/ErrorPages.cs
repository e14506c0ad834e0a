using System.Globalization;
using System.Text;
using Microsoft.AspNetCore.WebUtilities;
using Switchman.Core.Configuration;

namespace Switchman.Proxy.Forwarding;

/// <summary>
/// The bodies of the errors a frontend answers itself. By default a short neutral text — the status and the request id,
/// nothing about backends or servers (the detail is in the node's log and the access log's <c>reason</c>) — or, per
/// status, an operator's file (<c>error_pages</c>, HAProxy's <c>errorfile</c>), read when the configuration is applied.
/// </summary>
internal sealed class ErrorPages
{
    public static readonly ErrorPages None = new([]);

    private readonly Dictionary<int, (string Body, string ContentType)> _pages;

    private ErrorPages(Dictionary<int, (string Body, string ContentType)> pages) => _pages = pages;

    /// <summary>Reads the files; one that cannot be read now (removed since it was checked) leaves its status to the default text.</summary>
    public static ErrorPages Load(IReadOnlyList<ErrorPageConfig> pages)
    {
        if (pages.Count == 0)
        {
            return None;
        }
        var loaded = new Dictionary<int, (string, string)>();
        foreach (var page in pages)
        {
            try
            {
                loaded[page.Status] = (File.ReadAllText(page.File), ContentTypeOf(page.File));
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
                // The default body for this status; the validator reported the file when the configuration was checked.
            }
        }
        return new ErrorPages(loaded);
    }

    /// <summary>The body and content type of the error <paramref name="status"/> for request <paramref name="requestId"/>.</summary>
    public (string Body, string ContentType) Render(int status, string requestId)
    {
        if (_pages.TryGetValue(status, out var page))
        {
            return (page.Body.Replace("{status}", status.ToString(CultureInfo.InvariantCulture), StringComparison.Ordinal)
                .Replace("{request_id}", requestId, StringComparison.Ordinal), page.ContentType);
        }
        var text = new StringBuilder()
            .Append(status.ToString(CultureInfo.InvariantCulture)).Append(' ').Append(ReasonPhrases.GetReasonPhrase(status)).Append('\n')
            .Append("request id: ").Append(requestId).Append('\n');
        return (text.ToString(), "text/plain; charset=utf-8");
    }

    private static string ContentTypeOf(string file) => Path.GetExtension(file).ToLowerInvariant() switch
    {
        ".json" => "application/json; charset=utf-8",
        ".html" or ".htm" => "text/html; charset=utf-8",
        ".xml" => "application/xml; charset=utf-8",
        _ => "text/plain; charset=utf-8",
    };
}
