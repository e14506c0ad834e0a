using Microsoft.Extensions.Logging;

namespace Switchman.Admin.Api;

internal static partial class AdminApiLog
{
    [LoggerMessage(EventId = 3001, Level = LogLevel.Warning, Message = "Admin token {Name} cannot be used: {Problem}")]
    public static partial void TokenUnusable(ILogger logger, string name, string problem);

    [LoggerMessage(EventId = 3002, Level = LogLevel.Warning, Message =
        "Admin API: {Source} failed authentication {Burst} times in a burst: its requests are answered 429 while it fails more than once every {Seconds} s, except with a credential it used before (logged once per lockout)")]
    public static partial void SourceLimited(ILogger logger, string source, int burst, double seconds);
}
