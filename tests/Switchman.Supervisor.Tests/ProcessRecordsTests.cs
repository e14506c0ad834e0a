using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Testing;
using Switchman.Supervisor.Processes;

namespace Switchman.Supervisor.Tests;

public sealed class ProcessRecordsTests : ServicesTest
{
    private string RecordsDirectory => Services.Directory.Combine("run");

    [Fact]
    public async Task Start_WithRecords_RecordsTheInstanceWhileItRunsAndRemovesTheRecordWhenItEnds()
    {
        var records = new ProcessRecords(RecordsDirectory);
        var service = Services.Start(Services.Spec("recorded", "/bin/sleep", "300"), new ServiceProcessOptions { Records = records });
        var file = Path.Combine(RecordsDirectory, "recorded.pid");

        Assert.Equal($"{service.Pid} {ProcessGroup.StartTimeOf(service.Pid)}", File.ReadAllText(file).Trim());

        await service.StopAsync(TimeSpan.FromSeconds(5), CancellationToken.None);
        await service.Exited.WaitAsync(Services.Patience);
        Assert.False(File.Exists(file));
    }

    [Fact]
    public async Task ReapLeftovers_ARecordedGroupStillRunning_IsKilledWithItsChildren()
    {
        // What a crash of this node leaves: the instance runs on, its record on disk.
        var service = Services.Start(
            Services.Spec("left-behind", "/bin/sh", "-c", "sleep 300 & echo started; wait"),
            new ServiceProcessOptions { Records = new ProcessRecords(RecordsDirectory) });
        await Services.LogContainsAsync("left-behind", "started");
        var members = ProcessGroup.LiveMembers(service.Pid);
        var logs = new FakeLogCollector();
        using var loggers = LoggerFactory.Create(builder => builder.AddProvider(new FakeLoggerProvider(logs)));

        var reaped = await ProcessRecords.ReapLeftoversAsync(RecordsDirectory, TimeProvider.System, loggers.CreateLogger("reap"));

        Assert.Equal([new ReapedGroup("left-behind", service.Pid, Ended: true)], reaped);
        Assert.All(members, pid => Assert.False(Services.IsAlive(pid), $"process {pid} of the group lives on"));
        Assert.Empty(Directory.GetFiles(RecordsDirectory));
        Assert.Contains(logs.GetSnapshot(), record => record.Id.Id == 7020 && record.Message.Contains("left-behind", StringComparison.Ordinal));
        Assert.Equal(9, (await service.Exited.WaitAsync(Services.Patience)).Signal);
    }

    [Fact]
    public async Task ReapLeftovers_ARecordWhosePidNowBelongsToAnotherProcess_LeavesThatProcessAlone()
    {
        // A running process whose PID a stale record names, with another start time: the PID was reused.
        var unrelated = Services.Start(Services.Spec("unrelated", "/bin/sleep", "300"));
        var start = ProcessGroup.StartTimeOf(unrelated.Pid)!.Value;
        Directory.CreateDirectory(RecordsDirectory);
        File.WriteAllText(Path.Combine(RecordsDirectory, "old.pid"), $"{unrelated.Pid} {start - 1}\n");
        File.WriteAllText(Path.Combine(RecordsDirectory, "garbled.pid"), "not a record\n");

        var reaped = await ProcessRecords.ReapLeftoversAsync(RecordsDirectory, TimeProvider.System);

        Assert.Empty(reaped);
        Assert.True(Services.IsAlive(unrelated.Pid));
        Assert.False(unrelated.HasExited);
        Assert.Empty(Directory.GetFiles(RecordsDirectory));
    }

    [Fact]
    public void Remove_BeforeAnyRecordWasWritten_IsNothingToRemove()
    {
        // The first record written makes the directory: an instance that ended before then has nothing to remove.
        var records = new ProcessRecords(Services.Directory.Combine("absent"));

        records.Remove("never-recorded", Environment.ProcessId);

        Assert.False(Directory.Exists(records.Directory));
    }

    [Fact]
    public async Task ReapLeftovers_NoDirectory_IsNothingToDo()
    {
        Assert.Empty(await ProcessRecords.ReapLeftoversAsync(Services.Directory.Combine("absent"), TimeProvider.System));
    }
}
