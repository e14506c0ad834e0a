namespace Switchman.Client;

/// <summary>Where a node's admin API is and the bearer token to present to it.</summary>
public sealed record AdminClientSettings
{
    /// <summary>The admin listener of a node started with the default configuration.</summary>
    public static readonly Uri DefaultEndpoint = new("http://127.0.0.1:9090/");

    public static readonly TimeSpan DefaultRequestTimeout = TimeSpan.FromSeconds(30);

    public AdminClientSettings(Uri endpoint, string? token = null)
    {
        ArgumentNullException.ThrowIfNull(endpoint);
        // A trailing slash, so relative request paths ("api/v1/status") land under any base path the endpoint has.
        Endpoint = endpoint.AbsoluteUri.EndsWith('/') ? endpoint : new Uri(endpoint.AbsoluteUri + "/");
        Token = string.IsNullOrEmpty(token) ? null : token;
    }

    /// <summary>The admin listener's base URL, always ending in '/'.</summary>
    public Uri Endpoint { get; }

    /// <summary>The bearer token; null to send none (a node without tokens configured).</summary>
    public string? Token { get; }

    /// <summary>How long one call may take before the node counts as unreachable (the event stream is exempt once open).</summary>
    public TimeSpan RequestTimeout { get; init; } = DefaultRequestTimeout;

    /// <summary>The clock for <see cref="RequestTimeout"/>.</summary>
    public TimeProvider Time { get; init; } = TimeProvider.System;

    /// <summary>
    /// Reads an endpoint as operators write it: a URL (<c>http://10.0.0.5:9090</c>, <c>https://lb1:9443</c>) or just
    /// <c>host:port</c>, taken as plain HTTP.
    /// </summary>
    /// <exception cref="FormatException">It is neither.</exception>
    public static Uri ParseEndpoint(string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        var trimmed = text.Trim();
        var withScheme = trimmed.Contains("://", StringComparison.Ordinal) ? trimmed : "http://" + trimmed;
        if (!Uri.TryCreate(withScheme, UriKind.Absolute, out var uri)
            || (uri.Scheme != Uri.UriSchemeHttp && uri.Scheme != Uri.UriSchemeHttps)
            || string.IsNullOrEmpty(uri.Host))
        {
            throw new FormatException($"'{text}' is not an admin endpoint: expected a URL such as http://127.0.0.1:9090 or host:port");
        }
        return uri;
    }

    /// <summary>
    /// Each setting from the first place that has it: the flag, then the environment (<c>SWITCHMAN_ENDPOINT</c>,
    /// <c>SWITCHMAN_TOKEN</c>), then the client configuration file, then the default endpoint (and no token).
    /// The file is <see cref="ClientSettingsSources.ClientConfigFile"/> when given (it must then exist), otherwise
    /// <c>$XDG_CONFIG_HOME/switchman/client.yaml</c> or <c>~/.config/switchman/client.yaml</c> if present, and is read
    /// only when a setting is still missing.
    /// </summary>
    /// <exception cref="ClientConfigException">The endpoint is malformed, or the file is missing, malformed or names an unreadable token file.</exception>
    public static AdminClientSettings Resolve(ClientSettingsSources sources)
    {
        ArgumentNullException.ThrowIfNull(sources);
        // endpointSource names where the endpoint came from, for the message should it be malformed.
        var (endpointText, endpointSource) = NonEmpty(sources.Endpoint) is { } flag ? (flag, "--endpoint")
            : NonEmpty(sources.Environment(ClientSettingsSources.EndpointVariable)) is { } variable ? (variable, ClientSettingsSources.EndpointVariable)
            : ((string?)null, (string?)null);
        var token = NonEmpty(sources.Token) ?? NonEmpty(sources.Environment(ClientSettingsSources.TokenVariable));

        var explicitFile = NonEmpty(sources.ClientConfigFile);
        if (explicitFile is not null || endpointText is null || token is null)
        {
            var path = explicitFile ?? ClientSettingsSources.DefaultConfigFile(sources.Environment);
            if (path is not null && (explicitFile is not null || File.Exists(path)))
            {
                var file = ClientConfigFile.Load(path);
                if (endpointText is null && file.Endpoint is not null)
                {
                    endpointText = file.Endpoint;
                    endpointSource = path;
                }
                token ??= file.Token;
            }
        }

        Uri endpoint;
        try
        {
            endpoint = endpointText is null ? DefaultEndpoint : ParseEndpoint(endpointText);
        }
        catch (FormatException e)
        {
            throw new ClientConfigException($"{endpointSource}: {e.Message}", e);
        }
        return new AdminClientSettings(endpoint, token);
    }

    private static string? NonEmpty(string? value) => string.IsNullOrWhiteSpace(value) ? null : value.Trim();
}

/// <summary>What <see cref="AdminClientSettings.Resolve"/> reads: the command-line flags and the environment.</summary>
public sealed record ClientSettingsSources
{
    public const string EndpointVariable = "SWITCHMAN_ENDPOINT";
    public const string TokenVariable = "SWITCHMAN_TOKEN";

    /// <summary>--endpoint, when given.</summary>
    public string? Endpoint { get; init; }

    /// <summary>--token, when given.</summary>
    public string? Token { get; init; }

    /// <summary>--client-config, when given.</summary>
    public string? ClientConfigFile { get; init; }

    /// <summary>Reads an environment variable; the process environment unless a test substitutes its own.</summary>
    public Func<string, string?> Environment { get; init; } = System.Environment.GetEnvironmentVariable;

    /// <summary><c>$XDG_CONFIG_HOME/switchman/client.yaml</c>, else <c>$HOME/.config/switchman/client.yaml</c>; null without either variable.</summary>
    public static string? DefaultConfigFile(Func<string, string?> environment)
    {
        ArgumentNullException.ThrowIfNull(environment);
        var configHome = environment("XDG_CONFIG_HOME") is { Length: > 0 } xdg ? xdg
            : environment("HOME") is { Length: > 0 } home ? Path.Combine(home, ".config")
            : null;
        return configHome is null ? null : Path.Combine(configHome, "switchman", "client.yaml");
    }
}
