using System.Diagnostics.Metrics;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging.Testing;
using Switchman.Core.Changes;
using Switchman.Core.Configuration;
using Switchman.Supervisor.Processes;
using Switchman.Testing;

namespace Switchman.Supervisor.Tests;

/// <summary>One service's supervision loop with real processes, and the process records it keeps on the way.</summary>
public sealed class ServiceInstanceTests : ServicesTest
{
    private readonly FakeLogCollector _logs = new();
    private readonly ServiceProvider _container = new ServiceCollection().AddMetrics().BuildServiceProvider();

    public override async Task DisposeAsync()
    {
        await _container.DisposeAsync();
        await base.DisposeAsync();
    }

    [Fact]
    public async Task AProgramThatExitsAtOnce_IsReportedFailedWithItsExitCode_BeforeAnyRecordWasWritten()
    {
        // The records' directory is made by the first record written: on a node starting its services, a program this
        // quick can be started, exit and be removed before any other service was recorded (CI saw it once, through
        // ServiceCommandTests.List_ProgramThatExitsAtOnce_ShownFailedWithItsProblem: its supervision failed, 7009).
        // Whether it has exited before its record is written is a race; a few rounds make it likely either way.
        for (var round = 0; round < 10; round++)
        {
            var records = new ProcessRecords(Services.Directory.Combine($"processes-{round}"));

            var report = await RunUntilFailedAsync(Service("quick", "/bin/sh", "-c", "exit 3"), records);

            Assert.Equal((1, "exited with code 3"), (report.Failures, report.LastFailure));
            Assert.Equal([], Directory.Exists(records.Directory) ? Directory.GetFiles(records.Directory) : []);
        }
        Assert.DoesNotContain(_logs.GetSnapshot(), record => record.Id.Id == 7009);
    }

    [Fact]
    public async Task AnInstanceThatCannotBeRecorded_IsNotLeftRunning_AndIsReportedFailedWithWhy()
    {
        // Unrecorded, a crash of the node would leave it running unsupervised: it is not started at all.
        var blocked = Services.Directory.WriteFile("blocked", "a file where the records' directory would be\n");
        var records = new ProcessRecords(Path.Combine(blocked, "processes"));
        var marker = Services.Directory.Combine("ran");

        var report = await RunUntilFailedAsync(Service("unrecorded", "/bin/sh", "-c", $"sleep 0.2; touch {marker}; exec sleep 300"), records);

        Assert.StartsWith($"unrecorded cannot be recorded in {records.Directory}: ", report.LastFailure, StringComparison.Ordinal);
        Assert.Null(report.Pid);
        await Task.Delay(TimeSpan.FromMilliseconds(500));
        Assert.False(File.Exists(marker), "the unrecorded instance ran on");
        Assert.DoesNotContain(_logs.GetSnapshot(), record => record.Id.Id is 7001 or 7009);
    }

    private static ServiceConfig Service(string name, params string[] command) =>
        new() { Name = name, Command = ValueList.Create(command), MigrationThreshold = 1 };

    /// <summary>Supervises <paramref name="service"/> until it is reported failed (left stopped), and returns that report.</summary>
    private async Task<ServiceInstanceReport> RunUntilFailedAsync(ServiceConfig service, ProcessRecords records)
    {
        var definition = new InstanceDefinition(service, new ServicePlaceholders("node-1", null, "/usr/bin/switchman"), Services.Directory.Combine("logs"));
        await using var instance = new ServiceInstance(
            service.Name, new InstanceDesire(true, null, definition, 0, 0), records, new ServiceMetrics(_container.GetRequiredService<IMeterFactory>()), TimeProvider.System, new FakeLogger(_logs));
        await Await.UntilAsync(
            () => instance.Report.State == ServiceInstanceState.Failed, Services.Patience,
            $"{service.Name} (recorded in {records.Directory}) to be reported failed");
        return instance.Report;
    }
}
