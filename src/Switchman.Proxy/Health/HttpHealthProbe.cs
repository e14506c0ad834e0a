using System.Buffers;
using System.Text;
using System.Text.RegularExpressions;
using Switchman.Core.Configuration;
using Switchman.Proxy.Diagnostics;
using Switchman.Proxy.Runtime;

namespace Switchman.Proxy.Health;

/// <summary>
/// An HTTP check: method and path on the server, with the configured request headers; healthy when the status is in
/// the expected ranges and, when a body match is set, the first <see cref="HealthCheckConfig.MaxBodyBytes"/> of the
/// body contain the text (or match the pattern) — or, with <c>expect_body_absent</c>, do not.
/// </summary>
internal sealed class HttpHealthProbe : IHealthProbe
{
    /// <summary>How much of the expected text or pattern a failed check's detail quotes.</summary>
    private const int MaxQuoted = 64;

    private readonly HealthCheckConfig _config;
    private readonly HttpMessageInvoker _client;
    private readonly HttpMethod _method;
    private readonly string? _host;
    private readonly Regex? _regex;
    private readonly bool _userAgentSet;

    public HttpHealthProbe(HealthCheckConfig config, HttpMessageInvoker client)
    {
        _config = config;
        _client = client;
        _method = new HttpMethod(config.Method);
        _host = config.EffectiveHost;
        _userAgentSet = config.Headers.Any(h => string.Equals(h.Name, "User-Agent", StringComparison.OrdinalIgnoreCase));
        if (config.ExpectBodyRegex is { } pattern)
        {
            // Validated at load; compiled once here, and every match is bounded by its timeout.
            _regex = HealthBodyMatch.TryCreateRegex(pattern, out var error)
                ?? throw new ArgumentException($"health.expect_body_regex: {error}", nameof(config));
        }
    }

    private bool MatchesBody => _config.ExpectBody is not null || _regex is not null;

    public async Task<ProbeResult> ProbeAsync(ServerRuntime server, CancellationToken cancellationToken)
    {
        using var request = new HttpRequestMessage(_method, new Uri($"{server.DestinationPrefix.TrimEnd('/')}{_config.Path}"));
        request.Headers.ConnectionClose = false;
        if (!_userAgentSet)
        {
            request.Headers.UserAgent.ParseAdd("Switchman-HealthCheck/1");
        }
        foreach (var header in _config.Headers)
        {
            if (!string.Equals(header.Name, "Host", StringComparison.OrdinalIgnoreCase))
            {
                // Validated at load (token name, no CR/LF): sent as written.
                request.Headers.TryAddWithoutValidation(header.Name, header.Value);
            }
        }
        if (_host is not null)
        {
            request.Headers.Host = _host;
        }
        // Connect failures (refused, the backend's connect timeout), resets and bad answers throw; the checker counts them.
        // With a body match the body is read (the first MaxBodyBytes of it) within the check's timeout.
        using var response = await _client.SendAsync(request, cancellationToken).ConfigureAwait(false);
        var status = (int)response.StatusCode;
        if (!_config.ExpectStatus.Any(range => range.Contains(status)))
        {
            return ProbeResult.Failed(FailureReason.Status, $"HTTP {status}, expected {string.Join(",", _config.ExpectStatus)}");
        }
        if (!MatchesBody)
        {
            return ProbeResult.Healthy($"HTTP {status}");
        }
        // Pooled: the first 64 KiB as bytes, then as chars (64 Ki chars would be a large-object string every check).
        var bytes = ArrayPool<byte>.Shared.Rent(HealthCheckConfig.MaxBodyBytes);
        try
        {
            var length = await ReadBodyAsync(response, bytes, cancellationToken).ConfigureAwait(false);
            var chars = ArrayPool<char>.Shared.Rent(Encoding.UTF8.GetMaxCharCount(length));
            try
            {
                // Invalid UTF-8 (or a character cut at the 64 KiB mark) becomes U+FFFD.
                var count = Encoding.UTF8.GetChars(bytes, 0, length, chars, 0);
                return CheckBody(status, chars.AsSpan(0, count));
            }
            finally
            {
                ArrayPool<char>.Shared.Return(chars);
            }
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(bytes);
        }
    }

    private ProbeResult CheckBody(int status, ReadOnlySpan<char> body)
    {
        bool found;
        string what;
        if (_regex is not null)
        {
            try
            {
                found = _regex.IsMatch(body);
            }
            catch (RegexMatchTimeoutException)
            {
                return ProbeResult.Failed(FailureReason.Body,
                    $"body match against {Quote(_regex.ToString())} took longer than {HealthCheckConfig.BodyRegexTimeout.TotalMilliseconds:0} ms");
            }
            what = found ? $"matches {Quote(_regex.ToString())}" : $"does not match {Quote(_regex.ToString())}";
        }
        else
        {
            var text = _config.ExpectBody!;
            found = body.Contains(text, StringComparison.Ordinal);
            what = found ? $"contains {Quote(text)}" : $"does not contain {Quote(text)}";
        }
        // HAProxy's "http-check expect ! string": healthy when the text is absent.
        return found != _config.ExpectBodyAbsent
            ? ProbeResult.Healthy($"HTTP {status}")
            : ProbeResult.Failed(FailureReason.Body, $"body {what}");
    }

    /// <summary>Reads the first MaxBodyBytes of the body into <paramref name="buffer"/>; the rest is left unread.</summary>
    private static async Task<int> ReadBodyAsync(HttpResponseMessage response, byte[] buffer, CancellationToken cancellationToken)
    {
        var stream = await response.Content.ReadAsStreamAsync(cancellationToken).ConfigureAwait(false);
        await using (stream.ConfigureAwait(false))
        {
            var length = 0;
            while (length < HealthCheckConfig.MaxBodyBytes)
            {
                var read = await stream.ReadAsync(buffer.AsMemory(length, HealthCheckConfig.MaxBodyBytes - length), cancellationToken).ConfigureAwait(false);
                if (read == 0)
                {
                    break;
                }
                length += read;
            }
            return length;
        }
    }

    /// <summary>The text in double quotes for a one-line detail: quotes, backslashes and control characters escaped, long text cut.</summary>
    internal static string Quote(string text)
    {
        var builder = new StringBuilder("\"");
        foreach (var c in text.Length > MaxQuoted ? text[..MaxQuoted] : text)
        {
            _ = c switch
            {
                '"' => builder.Append("\\\""),
                '\\' => builder.Append("\\\\"),
                '\n' => builder.Append("\\n"),
                '\r' => builder.Append("\\r"),
                '\t' => builder.Append("\\t"),
                _ when char.IsControl(c) => builder.Append(System.Globalization.CultureInfo.InvariantCulture, $"\\u{(int)c:x4}"),
                _ => builder.Append(c),
            };
        }
        return builder.Append(text.Length > MaxQuoted ? "…\"" : "\"").ToString();
    }
}
