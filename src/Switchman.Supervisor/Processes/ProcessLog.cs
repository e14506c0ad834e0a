using Microsoft.Extensions.Logging;

namespace Switchman.Supervisor.Processes;

/// <summary>What the process mechanics log (event ids 7001–7099).</summary>
internal static partial class ProcessLog
{
    [LoggerMessage(EventId = 7001, Level = LogLevel.Warning, Message = "Killed leftover {Name} (process group {ProcessGroup}) from before this node restarted")]
    public static partial void KilledLeftover(ILogger logger, string name, int processGroup);

    [LoggerMessage(EventId = 7002, Level = LogLevel.Error, Message = "Leftover {Name} (process group {ProcessGroup}) still has processes after SIGKILL")]
    public static partial void LeftoverLingers(ILogger logger, string name, int processGroup);

    [LoggerMessage(EventId = 7003, Level = LogLevel.Warning, Message = "Process record {File} cannot be read or removed: {Problem}")]
    public static partial void BadRecord(ILogger logger, string file, string problem);
}
