using Switchman.Cluster.Transport;

namespace Switchman.Cluster.Tests.Transport;

/// <summary>
/// When a peer was last heard from decides whether the leader may still hold its VIPs (docs/design/vips.md): it is
/// measured on the monotonic clock, so a wall-clock step (NTP stepping, an operator's <c>date -s</c>) neither makes an
/// old contact look fresh nor a fresh one old.
/// </summary>
public sealed class PeerContactTests
{
    [Theory]
    [InlineData(-10)]
    [InlineData(10)]
    public void A_wall_clock_step_does_not_change_how_long_ago_a_peer_was_heard_from(int stepSeconds)
    {
        var clock = new SteppedClock();
        var contact = new PeerContact(clock);
        Assert.False(contact.TryGetSince(out _));

        contact.Touch();
        clock.Advance(TimeSpan.FromMilliseconds(100));
        clock.StepWallClock(TimeSpan.FromSeconds(stepSeconds));

        Assert.True(contact.TryGetSince(out var since));
        Assert.Equal(TimeSpan.FromMilliseconds(100), since);
    }

    /// <summary>A monotonic clock and a wall clock that can be stepped apart.</summary>
    private sealed class SteppedClock : TimeProvider
    {
        private long _ticks = 1;
        private DateTimeOffset _wall = new(2026, 12, 7, 12, 0, 0, TimeSpan.Zero);

        public override long TimestampFrequency => TimeSpan.TicksPerSecond;

        public override long GetTimestamp() => _ticks;

        public override DateTimeOffset GetUtcNow() => _wall;

        public void Advance(TimeSpan by)
        {
            _ticks += by.Ticks;
            _wall += by;
        }

        public void StepWallClock(TimeSpan by) => _wall += by;
    }
}
