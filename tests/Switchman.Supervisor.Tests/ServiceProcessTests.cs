using Switchman.Supervisor.Processes;
using Switchman.Testing;

namespace Switchman.Supervisor.Tests;

public sealed class ServiceProcessTests : ServicesTest
{
    [Fact]
    public async Task Start_ShellWritingToBothStreams_LogHasBothLinesAndThePidLeadsItsOwnGroupAndSession()
    {
        var service = Services.Start(Services.Spec("hello", "/bin/sh", "-c", "echo hello; echo oops >&2; sleep 30"));

        await Services.LogContainsAsync("hello", "oops");
        var lines = File.ReadAllLines(Services.LogOf("hello"));
        Assert.Contains(lines, line => line.EndsWith(" stdout hello", StringComparison.Ordinal));
        Assert.Contains(lines, line => line.EndsWith(" stderr oops", StringComparison.Ordinal));
        Assert.All(lines, line => Assert.Matches(@"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z (stdout|stderr) ", line));
        var stat = ProcessGroup.ReadStat(service.Pid);
        Assert.NotNull(stat);
        Assert.Equal(service.Pid, stat.Value.ProcessGroup);
        Assert.Equal(service.Pid, stat.Value.Session);
        // The shell itself, not a wrapper: setsid happened in the spawned child before exec.
        Assert.Equal("sh", File.ReadAllText($"/proc/{service.Pid}/comm").Trim());
        Assert.False(service.HasExited);
    }

    [Fact]
    public async Task Start_WithEnvironmentAndWorkingDirectory_TheServiceSeesBoth()
    {
        var directory = System.IO.Directory.CreateDirectory(Services.Directory.Combine("work")).FullName;
        var spec = Services.Spec("env", "sh", "-c", "echo \"value=$SWITCHMAN_TEST_VALUE\"; pwd") with
        {
            Environment = new Dictionary<string, string> { ["SWITCHMAN_TEST_VALUE"] = "a b'c" },
            WorkingDirectory = directory,
        };
        var service = Services.Start(spec);

        Assert.True((await service.Exited.WaitAsync(Services.Patience)).Succeeded);
        var lines = File.ReadAllLines(Services.LogOf("env"));
        Assert.EndsWith(" stdout value=a b'c", lines[0], StringComparison.Ordinal);
        Assert.EndsWith(" stdout " + directory, lines[1], StringComparison.Ordinal);
    }

    [Fact]
    public async Task Exited_AfterLotsOfOutput_NoLineIsLost()
    {
        var service = Services.Start(Services.Spec("chatty", "/bin/sh", "-c", "i=1; while [ $i -le 2000 ]; do echo line $i; i=$((i+1)); done; printf 'no newline'"));

        await service.Exited.WaitAsync(Services.Patience);

        var lines = File.ReadAllLines(Services.LogOf("chatty"));
        Assert.Equal(2001, lines.Length);
        Assert.EndsWith(" stdout line 2000", lines[1999], StringComparison.Ordinal);
        Assert.EndsWith(" stdout no newline", lines[2000], StringComparison.Ordinal);
    }

    [Fact]
    public async Task Exited_ExitCode_IsReported()
    {
        var service = Services.Start(Services.Spec("three", "/bin/sh", "-c", "exit 3"));

        var exit = await service.Exited.WaitAsync(Services.Patience);

        Assert.Equal(3, exit.ExitCode);
        Assert.Null(exit.Signal);
        Assert.Equal("exited with code 3", exit.Describe());
        Assert.True(service.HasExited);
    }

    [Fact]
    public async Task Exited_KilledBySignal_NamesTheSignalNotACode()
    {
        var service = Services.Start(Services.Spec("victim", "/bin/sleep", "300"));

        service.Kill();
        var exit = await service.Exited.WaitAsync(Services.Patience);

        Assert.Equal(9, exit.Signal);
        Assert.Null(exit.ExitCode);
        Assert.Equal("killed by SIGKILL", exit.Describe());
    }

    [Fact]
    public async Task StopAsync_ServiceWithAGrandchild_LeavesNoProcessOfTheGroup()
    {
        var service = Services.Start(Services.Spec("family", "/bin/sh", "-c", "sleep 300 & sleep 300"));
        await Await.UntilAsync(() => ProcessGroup.LiveMembers(service.Pid).Count >= 3, Services.Patience, "the shell and both sleeps");
        var members = ProcessGroup.LiveMembers(service.Pid);

        var result = await service.StopAsync(TimeSpan.FromSeconds(5), CancellationToken.None);

        Assert.Equal(StopOutcome.Terminated, result.Outcome);
        Assert.Empty(ProcessGroup.LiveMembers(service.Pid));
        Assert.All(members, pid => Assert.False(Services.IsAlive(pid), $"process {pid} of the group lives on"));
        Assert.Equal(15, (await service.Exited.WaitAsync(Services.Patience)).Signal);
    }

    [Fact]
    public async Task StopAsync_ServiceAndChildIgnoringSigterm_AreKilledAfterTheStopTimeout()
    {
        // The child ignores TERM too (inherited), and would outlive its parent if only the parent were killed.
        var service = Services.Start(Services.Spec("stubborn", "/bin/sh", "-c", "trap '' TERM; sleep 300 & echo started; wait"));
        await Services.LogContainsAsync("stubborn", "started");
        var members = ProcessGroup.LiveMembers(service.Pid);
        Assert.Equal(2, members.Count);

        var result = await service.StopAsync(TimeSpan.FromMilliseconds(300), CancellationToken.None);

        Assert.Equal(StopOutcome.Killed, result.Outcome);
        Assert.True(result.Killed);
        Assert.True(result.Elapsed >= TimeSpan.FromMilliseconds(300), result.Describe());
        Assert.StartsWith("killed with SIGKILL after ", result.Describe(), StringComparison.Ordinal);
        Assert.All(members, pid => Assert.False(Services.IsAlive(pid), $"process {pid} of the group lives on"));
    }

    [Fact]
    public async Task StopAsync_CalledTwiceAndConcurrently_StopsOnceAndAnswersAlike()
    {
        var service = Services.Start(Services.Spec("twice", "/bin/sleep", "300"));

        var first = service.StopAsync(TimeSpan.FromSeconds(5), CancellationToken.None);
        var second = service.StopAsync(TimeSpan.FromSeconds(5), CancellationToken.None);

        Assert.Equal(await first, await second);
        Assert.Equal(StopOutcome.Terminated, (await service.StopAsync(TimeSpan.FromSeconds(5), CancellationToken.None)).Outcome);
    }

    [Fact]
    public async Task StopAsync_AfterTheServiceEnded_SaysItHadEnded()
    {
        var service = Services.Start(Services.Spec("brief", "/bin/true"));
        await service.Exited.WaitAsync(Services.Patience);

        var result = await service.StopAsync(TimeSpan.FromSeconds(5), CancellationToken.None);

        Assert.Equal(StopOutcome.AlreadyEnded, result.Outcome);
    }

    [Fact]
    public async Task StopAsync_LeaderExitedButItsChildLivesOn_EndsTheChild()
    {
        var service = Services.Start(Services.Spec("orphaning", "/bin/sh", "-c", "sleep 300 & echo started"));
        await service.Exited.WaitAsync(Services.Patience);
        var left = Assert.Single(ProcessGroup.LiveMembers(service.Pid));

        var result = await service.StopAsync(TimeSpan.FromSeconds(5), CancellationToken.None);

        Assert.Equal(StopOutcome.Terminated, result.Outcome);
        Assert.False(Services.IsAlive(left));
    }

    [Fact]
    public async Task Start_AsNobody_RunsWithItsUid()
    {
        var service = Services.Start(Services.Spec("nobody", "id", "-u") with { User = "nobody" });

        Assert.True((await service.Exited.WaitAsync(Services.Patience)).Succeeded);
        Assert.EndsWith(" stdout 65534", File.ReadAllLines(Services.LogOf("nobody")).Single(), StringComparison.Ordinal);
    }

    [Fact]
    public void Start_MissingExecutable_NamesIt()
    {
        var e = Assert.Throws<ServiceStartException>(() => Services.Start(Services.Spec("missing", "no-such-program-anywhere", "x")));
        Assert.StartsWith("executable no-such-program-anywhere not found in PATH (", e.Message, StringComparison.Ordinal);

        e = Assert.Throws<ServiceStartException>(() => Services.Start(Services.Spec("missing", "/nonexistent/prog")));
        Assert.Equal("executable /nonexistent/prog not found", e.Message);
    }

    [Fact]
    public void Start_FileNotExecutable_NamesIt()
    {
        var file = Services.Directory.WriteFile("not-a-program", "#!/bin/sh\n");

        var e = Assert.Throws<ServiceStartException>(() => Services.Start(Services.Spec("plain", file)));

        Assert.Equal($"{file} is not executable", e.Message);
    }

    [Fact]
    public void Start_MissingWorkingDirectory_NamesIt()
    {
        var directory = Services.Directory.Combine("nowhere");

        var e = Assert.Throws<ServiceStartException>(() => Services.Start(Services.Spec("lost", "/bin/true") with { WorkingDirectory = directory }));

        Assert.Equal($"working directory {directory} does not exist", e.Message);
    }

    [Fact]
    public void Start_UnknownUser_NamesIt()
    {
        var e = Assert.Throws<ServiceStartException>(() => Services.Start(Services.Spec("stranger", "/bin/true") with { User = "no-such-user-here" }));

        Assert.Equal("user no-such-user-here does not exist on this host", e.Message);
    }
}
