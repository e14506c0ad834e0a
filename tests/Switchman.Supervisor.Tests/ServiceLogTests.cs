using Switchman.Supervisor.Processes;

namespace Switchman.Supervisor.Tests;

public sealed class ServiceLogTests : ServicesTest
{
    [Fact]
    public async Task Log_PassingTheRotationSize_IsRotatedOnceAndReadTailReadsAcrossTheRotation()
    {
        // Each line is about 40 bytes with its prefix: 400 lines pass 4 KiB several times over.
        var options = new ServiceProcessOptions { LogRotationBytes = 4096 };
        var service = Services.Start(
            Services.Spec("rotating", "/bin/sh", "-c", "i=1; while [ $i -le 400 ]; do echo line $i; i=$((i+1)); done"), options);
        await service.Exited.WaitAsync(Services.Patience);
        var log = Services.LogOf("rotating");

        Assert.True(File.Exists(log + ".1"), "no rotated file");
        Assert.False(File.Exists(log + ".2"), "more than one old file kept");
        Assert.InRange(new FileInfo(log + ".1").Length, 4096, 4096 + 100);
        Assert.InRange(new FileInfo(log).Length, 1, 4096 + 100);

        var currentLines = File.ReadAllLines(log).Length;
        var tail = ServiceLog.ReadTail(log, currentLines + 10);

        Assert.Equal(currentLines + 10, tail.Count);
        var expected = Enumerable.Range(400 - currentLines - 9, currentLines + 10).Select(i => $" stdout line {i}").ToList();
        Assert.Equal(expected, tail.Select(line => line[line.IndexOf(' ', StringComparison.Ordinal)..]).ToList());
    }

    [Fact]
    public void ReadTail_FewLinesOfMany_AreTheLastOnesInOrder()
    {
        var log = Services.Directory.WriteFile("many.log", string.Concat(Enumerable.Range(1, 5000).Select(i => $"line {i}\n")));

        Assert.Equal(["line 4998", "line 4999", "line 5000"], ServiceLog.ReadTail(log, 3));
        Assert.Equal(5000, ServiceLog.ReadTail(log, 6000).Count);
    }

    [Fact]
    public void ReadTail_NoLogYet_IsEmpty()
    {
        Assert.Empty(ServiceLog.ReadTail(Services.Directory.Combine("never.log"), 10));
    }
}
