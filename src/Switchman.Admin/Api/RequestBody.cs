using System.Globalization;
using Microsoft.AspNetCore.Http;

namespace Switchman.Admin.Api;

/// <summary>
/// Reads a request body up to the limit of its endpoint. A body over the limit is a 413 in the API's error form that
/// says the limit, whether its Content-Length said so at once or a chunked body went past it. What is left of the body
/// is then read and dropped by Kestrel, up to its own limit (<see cref="AdminListenerLimits.MaxNodeToNodeBytes"/>), so
/// that a client still sending it reads the answer instead of a reset connection.
/// </summary>
internal static class RequestBody
{
    /// <summary>The body, or the 413 to answer with when it is larger than <paramref name="limit"/> bytes.</summary>
    /// <param name="what">What the body is, for the message: "the configuration", "the body".</param>
    public static async Task<(byte[]? Body, IResult? TooLarge)> ReadAsync(HttpRequest request, long limit, string what, CancellationToken cancellationToken)
    {
        if (request.ContentLength > limit)
        {
            return (null, TooLarge(request, limit, what));
        }
        using var buffer = new MemoryStream();
        var chunk = new byte[16 * 1024];
        try
        {
            int read;
            while ((read = await request.Body.ReadAsync(chunk, cancellationToken).ConfigureAwait(false)) > 0)
            {
                if (buffer.Length + read > limit)
                {
                    return (null, TooLarge(request, limit, what));
                }
                buffer.Write(chunk, 0, read);
            }
        }
        catch (BadHttpRequestException e) when (e.StatusCode == StatusCodes.Status413PayloadTooLarge)
        {
            // Kestrel's own limit, for a chunked body: the same answer as ours.
            return (null, TooLarge(request, limit, what));
        }
        return (buffer.ToArray(), null);
    }

    private static IResult TooLarge(HttpRequest request, long limit, string what) => ApiResults.Error(
        StatusCodes.Status413PayloadTooLarge,
        $"{what} is larger than {Size(limit)}, the most {request.Method} {request.Path} takes");

    /// <summary>4 MiB, 64 KiB, or bytes.</summary>
    public static string Size(long bytes) => bytes % (1024 * 1024) == 0
        ? string.Create(CultureInfo.InvariantCulture, $"{bytes / (1024 * 1024)} MiB")
        : bytes % 1024 == 0
            ? string.Create(CultureInfo.InvariantCulture, $"{bytes / 1024} KiB")
            : string.Create(CultureInfo.InvariantCulture, $"{bytes} bytes");
}
