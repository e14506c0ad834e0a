using Microsoft.Extensions.Logging;

namespace Switchman.Admin.Api;

internal static partial class AdminApiLog
{
    [LoggerMessage(EventId = 3001, Level = LogLevel.Warning, Message = "Admin token {Name} cannot be used: {Problem}")]
    public static partial void TokenUnusable(ILogger logger, string name, string problem);
}
