using Switchman.Core.Configuration.Loading;

namespace Switchman.Core.Tests.Configuration;

public class ScalarFormatsTests
{
    [Theory]
    [InlineData("500ms", 500)]
    [InlineData("2s", 2_000)]
    [InlineData("1m", 60_000)]
    [InlineData("1h", 3_600_000)]
    [InlineData("1m30s", 90_000)]
    [InlineData("1h2m3s4ms", 3_723_004)]
    [InlineData("0", 0)]
    [InlineData("0s", 0)]
    public void TryParseDuration_ValidText_ReturnsMilliseconds(string text, long milliseconds)
    {
        Assert.True(ScalarFormats.TryParseDuration(text, out var value));
        Assert.Equal(TimeSpan.FromMilliseconds(milliseconds), value);
    }

    [Theory]
    [InlineData("")]
    [InlineData("5")]
    [InlineData("1.5s")]
    [InlineData("-1s")]
    [InlineData("s")]
    [InlineData("5 s")]
    [InlineData("5sec")]
    [InlineData("1d")]
    [InlineData("99999999999999999999h")]
    [InlineData("9999999999999h")]
    public void TryParseDuration_InvalidText_Fails(string text)
    {
        Assert.False(ScalarFormats.TryParseDuration(text, out _));
    }

    [Theory]
    [InlineData("0", 0)]
    [InlineData("65536", 65536)]
    [InlineData("512B", 512)]
    [InlineData("64KiB", 65536)]
    [InlineData("64k", 65536)]
    [InlineData("64K", 65536)]
    [InlineData("1MiB", 1048576)]
    [InlineData("1m", 1048576)]
    [InlineData("2GiB", 2147483648)]
    public void TryParseSize_ValidText_ReturnsBytes(string text, long bytes)
    {
        Assert.True(ScalarFormats.TryParseSize(text, out var value));
        Assert.Equal(bytes, value);
    }

    [Theory]
    [InlineData("")]
    [InlineData("KiB")]
    [InlineData("64KB")]
    [InlineData("1.5MiB")]
    [InlineData("-1")]
    [InlineData("64 KiB")]
    [InlineData("99999999999GiB")]
    public void TryParseSize_InvalidText_Fails(string text)
    {
        Assert.False(ScalarFormats.TryParseSize(text, out _));
    }

    [Theory]
    [InlineData("retires", "retries")]
    [InlineData("intervall", "interval")]
    [InlineData("DefaultBackend", "default_backend")]
    [InlineData("default-backend", "default_backend")]
    [InlineData("fal", "fall")]
    public void KeySuggestion_NearKey_IsSuggested(string typo, string expected)
    {
        string[] known = ["retries", "interval", "default_backend", "fall", "rise", "path"];

        Assert.Equal(expected, KeySuggestion.Find(typo, known));
    }

    [Theory]
    [InlineData("bind")]
    [InlineData("timeout")]
    [InlineData("x")]
    public void KeySuggestion_NothingClose_ReturnsNull(string typo)
    {
        Assert.Null(KeySuggestion.Find(typo, ["listen", "host", "retries"]));
    }
}
