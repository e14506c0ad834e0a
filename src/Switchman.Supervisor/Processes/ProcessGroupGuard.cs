using System.Globalization;

namespace Switchman.Supervisor.Processes;

/// <summary>
/// The <see cref="DeadlineGuard"/> of a singleton service: SIGKILL to the instance's whole process group when this
/// process stops renewing (frozen, or dead), so the service never runs on two nodes once its lease has passed here.
/// The guard checks, before it kills, that the group's leader is still the very process it was started for (same
/// start time): a group that ended and whose id was reused is never signalled. Disarm it once the instance is stopped.
/// </summary>
public static class ProcessGroupGuard
{
    /// <summary>
    /// $1 the pgid, $2 the leader's start time. Fields after the command name's ')' begin with field 3, so field 22
    /// (start time) is the 20th of them. kill is bash's builtin, with the negative pgid.
    /// </summary>
    private const string KillScript =
        """s=$(< "/proc/$1/stat") || exit 0; [ "$(set -- ${s##*) }; echo "${20}")" = "$2" ] && kill -KILL -- "-$1" """;

    /// <summary>Guards <paramref name="process"/>'s group.</summary>
    /// <exception cref="GuardStartException">The guard could not start, or the instance has already ended.</exception>
    public static DeadlineGuard Start(ServiceProcess process, TimeProvider time)
    {
        ArgumentNullException.ThrowIfNull(process);
        return Start(process.Pid, time);
    }

    /// <summary>Guards the process group <paramref name="pgid"/>, whose leader must be running now.</summary>
    /// <exception cref="GuardStartException">The guard could not start, or the group's leader has already ended.</exception>
    public static DeadlineGuard Start(int pgid, TimeProvider time)
    {
        ArgumentOutOfRangeException.ThrowIfLessThanOrEqual(pgid, 1);
        var start = ProcessGroup.StartTimeOf(pgid) ?? throw new GuardStartException($"process group {pgid} has no leader to guard any more");
        return Start(pgid, start, time);
    }

    /// <summary>Guards <paramref name="pgid"/> as long as its leader started at <paramref name="leaderStartTime"/> (clock ticks after boot).</summary>
    internal static DeadlineGuard Start(int pgid, long leaderStartTime, TimeProvider time) =>
        DeadlineGuard.Start(
            "switchman-group-guard",
            ["/bin/bash", "-c", KillScript, "switchman-group-kill", pgid.ToString(CultureInfo.InvariantCulture), leaderStartTime.ToString(CultureInfo.InvariantCulture)],
            environment: null,
            time);
}
