using System.Diagnostics.CodeAnalysis;
using System.Globalization;
using System.Net;

namespace Switchman.Core.Configuration;

/// <summary>A host:port pair as written in the configuration: "127.0.0.1:8080", "[::1]:80", "api.local:5000", "*:8080".</summary>
public readonly record struct HostPort(string Host, int Port)
{
    /// <summary>The host as an IP address, when it is one ("*" means any IPv4 address).</summary>
    public IPAddress? Address => Host == "*" ? IPAddress.Any : IPAddress.TryParse(Host, out var ip) ? ip : null;

    public static bool TryParse(string? text, [NotNullWhen(true)] out HostPort? result, [NotNullWhen(false)] out string? error)
    {
        result = null;
        if (string.IsNullOrWhiteSpace(text))
        {
            error = "must be host:port";
            return false;
        }
        string host;
        string portText;
        if (text.StartsWith('['))
        {
            var close = text.IndexOf(']', StringComparison.Ordinal);
            if (close < 0 || close + 1 >= text.Length || text[close + 1] != ':')
            {
                error = $"'{text}' is not [ipv6]:port";
                return false;
            }
            host = text[1..close];
            portText = text[(close + 2)..];
            if (!IPAddress.TryParse(host, out _))
            {
                error = $"'{host}' is not an IPv6 address";
                return false;
            }
        }
        else
        {
            var colon = text.LastIndexOf(':');
            if (colon <= 0 || text.IndexOf(':', StringComparison.Ordinal) != colon)
            {
                error = $"'{text}' is not host:port (write IPv6 addresses as [addr]:port)";
                return false;
            }
            host = text[..colon];
            portText = text[(colon + 1)..];
        }
        if (!int.TryParse(portText, NumberStyles.None, CultureInfo.InvariantCulture, out var port) || port is < 0 or > 65535)
        {
            error = $"port '{portText}' must be a number from 0 to 65535";
            return false;
        }
        result = new HostPort(host, port);
        error = null;
        return true;
    }

    public static HostPort Parse(string text) =>
        TryParse(text, out var result, out var error) ? result.Value : throw new FormatException(error);

    public override string ToString() =>
        Host.Contains(':', StringComparison.Ordinal) ? $"[{Host}]:{Port}" : $"{Host}:{Port}";
}
