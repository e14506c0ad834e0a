using System.Diagnostics;
using Switchman.Supervisor.Processes;
using Switchman.Testing;

namespace Switchman.Supervisor.Tests;

public sealed class DeadlineGuardTests : ServicesTest
{
    private readonly List<DeadlineGuard> _guards = [];

    public override async Task DisposeAsync()
    {
        foreach (var guard in _guards)
        {
            await guard.DisposeAsync();
        }
        await base.DisposeAsync();
    }

    /// <summary>SigIgn of /proc/pid/status: bit n-1 set when signal n is ignored.</summary>
    private static ulong IgnoredSignals(int pid) => Convert.ToUInt64(
        File.ReadAllLines($"/proc/{pid}/status").Single(line => line.StartsWith("SigIgn:", StringComparison.Ordinal))["SigIgn:".Length..].Trim(), 16);

    private async Task<(ServiceProcess Service, IReadOnlyList<int> Members, DeadlineGuard Guard)> GuardedServiceAsync(string name)
    {
        var service = Services.Start(Services.Spec(name, "/bin/sh", "-c", "sleep 300 & echo started; wait"));
        await Services.LogContainsAsync(name, "started");
        var guard = ProcessGroupGuard.Start(service, TimeProvider.System);
        _guards.Add(guard);
        return (service, ProcessGroup.LiveMembers(service.Pid), guard);
    }

    [Fact]
    public async Task ProcessGroupGuard_NotRenewedInTime_KillsTheWholeGroup()
    {
        var (service, members, guard) = await GuardedServiceAsync("abandoned");

        guard.Renew(TimeSpan.FromMilliseconds(300));

        await Services.GroupEmptyAsync(service.Pid);
        Assert.All(members, pid => Assert.False(Services.IsAlive(pid)));
        Assert.Equal(9, (await service.Exited.WaitAsync(Services.Patience)).Signal);
        await Await.UntilAsync(() => guard.HasExited, Services.Patience, "the guard to end after firing");
    }

    [Fact]
    public async Task ProcessGroupGuard_KeptRenewedThenDisarmed_NeverFires()
    {
        var (service, members, guard) = await GuardedServiceAsync("kept");

        // Three of its deadlines long, renewed twenty times within each (a deadline of a second: a loaded two-core
        // machine may stall this process for a few hundred milliseconds, and a stalled owner is what the guard is for).
        var until = TimeProvider.System.GetTimestamp() + TimeProvider.System.TimestampFrequency * 3;
        while (TimeProvider.System.GetTimestamp() < until)
        {
            guard.Renew(TimeSpan.FromSeconds(1));
            await Task.Delay(TimeSpan.FromMilliseconds(50));
        }
        await guard.DisarmAsync();

        Assert.True(guard.HasExited);
        Assert.All(members, pid => Assert.True(Services.IsAlive(pid), $"process {pid} was killed"));
        Assert.False(service.HasExited);
    }

    [Fact]
    public async Task ProcessGroupGuard_OwnerGone_PipeClosedWithoutRelease_KillsTheGroup()
    {
        var (service, _, guard) = await GuardedServiceAsync("orphaned");
        guard.Renew(TimeSpan.FromMinutes(10));

        // What the kernel does to the pipe when this process dies, even by SIGKILL.
        guard.Abandon();

        await Services.GroupEmptyAsync(service.Pid);
        Assert.Equal(9, (await service.Exited.WaitAsync(Services.Patience)).Signal);
    }

    [Fact]
    public async Task ProcessGroupGuard_LeaderIsNoLongerTheProcessItWasStartedFor_KillsNothing()
    {
        var service = Services.Start(Services.Spec("reused", "/bin/sleep", "300"));
        // As if the guarded group had ended and its id had been reused by this process: another start time.
        var stale = ProcessGroupGuard.Start(service.Pid, ProcessGroup.StartTimeOf(service.Pid)!.Value - 1, TimeProvider.System);
        _guards.Add(stale);

        stale.Renew(TimeSpan.FromMilliseconds(10));
        await Await.UntilAsync(() => stale.HasExited, Services.Patience, "the stale guard to fire");

        Assert.True(Services.IsAlive(service.Pid));
        Assert.False(service.HasExited);
    }

    [Fact]
    public async Task DeadlineGuard_AnyAction_RunsWithItsEnvironmentWhenNotRenewed()
    {
        var marker = Services.Directory.Combine("fired");
        var guard = DeadlineGuard.Start("marker", ["sh", "-c", "echo \"$WHAT\" > \"$1\"", "sh", marker],
            new Dictionary<string, string> { ["WHAT"] = "deadline passed" }, TimeProvider.System);
        _guards.Add(guard);

        guard.Renew(TimeSpan.FromMilliseconds(100));

        await Await.UntilAsync(() => File.Exists(marker) && File.ReadAllText(marker) == "deadline passed\n", Services.Patience, "the action's file");
    }

    [Fact]
    public async Task DeadlineGuard_TermIntHup_DoNotStopIt()
    {
        var marker = Services.Directory.Combine("fired");
        var guard = DeadlineGuard.Start("stubborn", ["touch", marker], null, TimeProvider.System);
        _guards.Add(guard);
        // Its traps are set once bash has read its script: until then these signals would end it (as any process).
        await Await.UntilAsync(() => IgnoredSignals(guard.Pid) is var ignored && (ignored & 0b100_0000_0000_0011) == 0b100_0000_0000_0011,
            Services.Patience, "the guard to ignore HUP, INT and TERM");

        foreach (var signal in new[] { 15, 2, 1 })
        {
            Assert.Equal(0, NativeMethods.Kill(guard.Pid, signal));
        }
        guard.Renew(TimeSpan.FromMilliseconds(100));

        await Await.UntilAsync(() => File.Exists(marker), Services.Patience, "the action after TERM, INT and HUP");
    }

    [Fact]
    public async Task DeadlineGuard_RenewalReadLate_EndsAtItsDeadlineNotThatLongAfterTheRead()
    {
        // What a loaded machine does to a guard: the renewal waits in the pipe while the guard's shell gets no CPU. Here
        // the shell is stopped before the renewal is written and continued after its deadline passed.
        var (guard, marker) = await StoppedGuardAsync("late");

        guard.Renew(TimeSpan.FromSeconds(3));
        await Task.Delay(TimeSpan.FromSeconds(4));
        var continued = Stopwatch.StartNew();
        Assert.Equal(0, NativeMethods.Kill(guard.Pid, SigCont));

        // Its deadline passed while it was stopped: it acts as soon as it runs. (A guard that counted the 3 s from its
        // read of the line, as it did until 2026-12, acted 3 s after this, while another node could hold the address.)
        await Await.UntilAsync(() => File.Exists(marker), Services.Patience, "the action once continued");
        Assert.True(continued.Elapsed < TimeSpan.FromSeconds(2), $"the guard acted {continued.Elapsed.TotalSeconds:0.00} s after it was continued, its deadline long gone");
    }

    [Fact]
    public async Task DeadlineGuard_RenewedAsOfAnEarlierInstant_CountsFromThatInstant()
    {
        var marker = Services.Directory.Combine("fired");
        var guard = DeadlineGuard.Start("as-of", ["touch", marker], null, TimeProvider.System);
        _guards.Add(guard);
        // The right was measured 4 s ago as 3 s long: it ended a second ago, however late this renewal is written.
        var renewed = Stopwatch.StartNew();
        guard.Renew(TimeSpan.FromSeconds(3), GuardInstant.Now().Add(TimeSpan.FromSeconds(-4)));

        await Await.UntilAsync(() => File.Exists(marker), Services.Patience, "the action");
        Assert.True(renewed.Elapsed < TimeSpan.FromSeconds(2), $"the guard acted {renewed.Elapsed.TotalSeconds:0.00} s after a renewal whose deadline had passed");
    }

    [Fact]
    public async Task DeadlineGuard_RenewalsQueuedWhileItWasStopped_TheLastOneStands()
    {
        var (guard, marker) = await StoppedGuardAsync("queued");

        // An old renewal whose deadline has passed, then a fresh one: the fresh one holds (an old line read first would
        // otherwise take away an address whose lease was in fact renewed).
        guard.Renew(TimeSpan.FromMilliseconds(1), GuardInstant.Now().Add(TimeSpan.FromSeconds(-1)));
        await Await.UntilAsync(() => guard.RenewalWritten, Services.Patience, "the first renewal to be written");
        guard.Renew(TimeSpan.FromMinutes(10));
        await Await.UntilAsync(() => guard.RenewalWritten, Services.Patience, "the second renewal to be written");
        Assert.Equal(0, NativeMethods.Kill(guard.Pid, SigCont));
        await Await.UntilAsync(() => StateOf(guard.Pid) is not 'T', Services.Patience, "the guard to run again");

        await Task.Delay(TimeSpan.FromSeconds(1));
        Assert.False(File.Exists(marker), "the guard acted on a renewal that a later one had replaced");
        await guard.DisarmAsync();
        Assert.False(File.Exists(marker));
    }

    [Fact]
    public void DeadlineGuard_StartedWithCapSysNice_RunsAtRealTimePriority()
    {
        // A guard that waits for a CPU behind a busy machine's processes acts late; SCHED_FIFO runs it first.
        var guard = DeadlineGuard.Start("realtime", ["true"], null, TimeProvider.System);
        _guards.Add(guard);

        // Fields 40 and 41 of /proc/PID/stat (the 38th and 39th after the command's parenthesis): rt_priority and policy.
        var stat = File.ReadAllText($"/proc/{guard.Pid}/stat");
        var fields = stat[(stat.LastIndexOf(')') + 2)..].Split(' ');
        if (Environment.IsPrivilegedProcess)
        {
            Assert.Null(guard.RealTimeRefused);
            Assert.Equal(("1", "1"), (fields[37], fields[38]));
        }
        else
        {
            Assert.Contains("CAP_SYS_NICE", guard.RealTimeRefused, StringComparison.Ordinal);
        }
    }

    /// <summary>A guard whose action touches a file (not there yet), stopped (SIGSTOP) before anything was written to it.</summary>
    private async Task<(DeadlineGuard Guard, string Marker)> StoppedGuardAsync(string name)
    {
        var marker = Services.Directory.Combine("fired");
        var guard = DeadlineGuard.Start(name, ["touch", marker], null, TimeProvider.System);
        _guards.Add(guard);
        Assert.Equal(0, NativeMethods.Kill(guard.Pid, SigStop));
        await Await.UntilAsync(() => StateOf(guard.Pid) == 'T', Services.Patience, "the guard to be stopped");
        return (guard, marker);
    }

    private const int SigStop = 19;
    private const int SigCont = 18;

    /// <summary>The state letter of /proc/PID/stat: T when stopped.</summary>
    private static char StateOf(int pid)
    {
        var stat = File.ReadAllText($"/proc/{pid}/stat");
        return stat[stat.LastIndexOf(')') + 2];
    }
}
