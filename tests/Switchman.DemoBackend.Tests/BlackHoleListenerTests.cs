using Switchman.Testing;

namespace Switchman.DemoBackend.Tests;

public class BlackHoleListenerTests
{
    [Fact]
    public async Task Request_ToBlackHole_ConnectsButTimesOut()
    {
        await using var blackHole = new BlackHoleListener();
        using var client = new HttpClient { Timeout = TimeSpan.FromMilliseconds(300) };

        var error = await Assert.ThrowsAsync<TaskCanceledException>(() => client.GetAsync(blackHole.BaseAddress));

        Assert.IsType<TimeoutException>(error.InnerException);
        Assert.Equal(1, blackHole.AcceptedConnections);
    }
}
