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
        // The kernel completes the handshake at once; our accept loop may see it a little later on a busy machine.
        await Await.UntilAsync(() => blackHole.AcceptedConnections == 1, TimeSpan.FromSeconds(10), "the black hole to accept the connection");
    }
}
