namespace Switchman.DemoBackend.Tests;

public class DurationTextTests
{
    [Theory]
    [InlineData("250ms", 250)]
    [InlineData("2s", 2_000)]
    [InlineData("1.5s", 1_500)]
    [InlineData("1m", 60_000)]
    [InlineData("0", 0)]
    public void TryParse_DurationWithUnit_ReturnsIt(string text, int expectedMilliseconds)
    {
        Assert.True(DurationText.TryParse(text, out var duration, out var error), error);
        Assert.Equal(TimeSpan.FromMilliseconds(expectedMilliseconds), duration);
    }

    [Theory]
    [InlineData("250")]
    [InlineData("ms")]
    [InlineData("-1s")]
    [InlineData("2h")]
    [InlineData("")]
    [InlineData("999999m")]
    public void TryParse_NotADuration_ExplainsWhy(string text)
    {
        Assert.False(DurationText.TryParse(text, out _, out var error));
        Assert.False(string.IsNullOrEmpty(error));
    }
}
