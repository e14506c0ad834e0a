using Microsoft.Extensions.Logging;

namespace Switchman.Supervisor;

/// <summary>The supervisor's log events (7001–7099); docs/logging.md lists them.</summary>
internal static partial class SupervisionLog
{
    [LoggerMessage(EventId = 7001, Level = LogLevel.Information, Message = "Service {Service} started (pid {Pid})")]
    public static partial void Started(ILogger logger, string service, int pid);

    [LoggerMessage(EventId = 7002, Level = LogLevel.Information, Message = "Service {Service} (pid {Pid}) passed its monitor {Elapsed} after its start: running")]
    public static partial void Running(ILogger logger, string service, int pid, TimeSpan elapsed);

    [LoggerMessage(EventId = 7003, Level = LogLevel.Warning, Message = "Service {Service} failed: {Reason} (failure {Failures}); {Next}")]
    public static partial void Failed(ILogger logger, string service, string reason, int failures, string next);

    [LoggerMessage(EventId = 7004, Level = LogLevel.Information, Message = "Stopping service {Service} (pid {Pid}): {Why}")]
    public static partial void Stopping(ILogger logger, string service, int pid, string why);

    [LoggerMessage(EventId = 7005, Level = LogLevel.Information, Message = "Restarting service {Service} (pid {Pid}) as ordered")]
    public static partial void Restarting(ILogger logger, string service, int pid);

    [LoggerMessage(EventId = 7006, Level = LogLevel.Warning, Message = "Service {Service} (pid {Pid}) did not stop within its stop_timeout {Timeout} after SIGTERM: killed its process group")]
    public static partial void KilledAfterTimeout(ILogger logger, string service, int pid, TimeSpan timeout);

    [LoggerMessage(EventId = 7007, Level = LogLevel.Warning, Message = "Service {Service} (pid {Pid}) killed at once: this node lost the right to run it (self-fencing)")]
    public static partial void Fenced(ILogger logger, string service, int pid);

    [LoggerMessage(EventId = 7008, Level = LogLevel.Information, Message = "Service {Service}: failures cleaned up")]
    public static partial void CleanedUp(ILogger logger, string service);

    [LoggerMessage(EventId = 7009, Level = LogLevel.Error, Message = "The supervision of service {Service} failed; its instance was stopped")]
    public static partial void LoopFailed(ILogger logger, Exception exception, string service);
}
