using System.Net;

namespace Switchman.Client;

/// <summary>A call to the admin API did not succeed. See the two kinds below.</summary>
public abstract class AdminClientException : Exception
{
    protected AdminClientException(string message, Exception? innerException)
        : base(message, innerException)
    {
    }
}

/// <summary>No answer came: connection refused, name not resolved, TLS failure, timeout, or a stream cut short.</summary>
public sealed class AdminUnreachableException : AdminClientException
{
    public AdminUnreachableException(string message, Exception? innerException = null)
        : base(message, innerException)
    {
    }
}

/// <summary>The node answered with an error status. <see cref="Exception.Message"/> is the API's own error message.</summary>
public sealed class AdminApiException : AdminClientException
{
    public AdminApiException(HttpStatusCode statusCode, ApiError? error, string body, string message)
        : base(message, innerException: null)
    {
        StatusCode = statusCode;
        Error = error;
        Body = body;
    }

    public HttpStatusCode StatusCode { get; }

    /// <summary>The parsed error body; null when the body was not the API's JSON error (a proxy's HTML page, say).</summary>
    public ApiError? Error { get; }

    /// <summary>The body exactly as received.</summary>
    public string Body { get; }

    /// <summary>How long the node asks us to wait before trying again (its Retry-After, with a 503); null when it did not say.</summary>
    public TimeSpan? RetryAfter { get; init; }

    /// <summary>
    /// 401, 403 or 429: the token is missing, unknown, or may not do this; or this address failed authentication too
    /// often and is refused for now (the admin API's only 429).
    /// </summary>
    public bool IsUnauthorized => StatusCode is HttpStatusCode.Unauthorized or HttpStatusCode.Forbidden or HttpStatusCode.TooManyRequests;
}

/// <summary>The node answered with success, but not with the admin API's JSON: probably not a Switchman admin listener.</summary>
public sealed class AdminProtocolException : AdminClientException
{
    public AdminProtocolException(string message, Exception? innerException = null)
        : base(message, innerException)
    {
    }
}
