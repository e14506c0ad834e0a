using Microsoft.Extensions.Logging;

namespace Switchman.Supervisor.Processes;

/// <summary>What the process mechanics log (event ids 7020, 7022, 7023; docs/logging.md).</summary>
internal static partial class ProcessLog
{
    [LoggerMessage(EventId = 7020, Level = LogLevel.Warning, Message = "Killed leftover {Name} (process group {ProcessGroup}) from before this node restarted")]
    public static partial void KilledLeftover(ILogger logger, string name, int processGroup);

    [LoggerMessage(EventId = 7022, Level = LogLevel.Error, Message = "Leftover {Name} (process group {ProcessGroup}) still has processes after SIGKILL")]
    public static partial void LeftoverLingers(ILogger logger, string name, int processGroup);

    [LoggerMessage(EventId = 7023, Level = LogLevel.Warning, Message = "Process record {File} cannot be read or removed: {Problem}")]
    public static partial void BadRecord(ILogger logger, string file, string problem);
}
