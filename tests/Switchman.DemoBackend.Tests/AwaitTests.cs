using Switchman.Testing;

namespace Switchman.DemoBackend.Tests;

public class AwaitTests
{
    [Fact]
    public async Task UntilAsync_ConditionNeverTrue_TimeoutNamesWhatWasAwaited()
    {
        var error = await Assert.ThrowsAsync<TimeoutException>(
            () => Await.UntilAsync(() => false, TimeSpan.FromMilliseconds(100), "the moon to turn blue"));

        Assert.Contains("the moon to turn blue", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task UntilAsync_ConditionBecomesTrue_Returns()
    {
        var polls = 0;

        await Await.UntilAsync(() => Task.FromResult(++polls >= 3), TimeSpan.FromSeconds(10), "three polls");

        Assert.Equal(3, polls);
    }
}
